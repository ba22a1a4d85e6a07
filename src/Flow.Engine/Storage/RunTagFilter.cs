namespace Flow.Engine.Storage;

/// <summary>
/// One tag condition of <see cref="RunQuery.Tags"/>: a run matches when its tags (<see cref="FlowRunRecord.Tags"/>, key → value)
/// hold <see cref="Key"/> and, when <see cref="Value"/> is not null, that exact value (ordinal, case-sensitive).
/// Written as <c>key</c> or <c>key=value</c> (<see cref="TryParse"/>): the first <c>=</c> separates them.
/// </summary>
/// <param name="Key">The tag key, 1-100 characters without control characters.</param>
/// <param name="Value">The value the tag must have (at most 1,000 characters without control characters), or null for any value.</param>
public sealed record RunTagFilter(string Key, string? Value)
{
    /// <summary>The longest key, as deployments and runs allow.</summary>
    public const int MaxKeyLength = 100;

    /// <summary>The longest value, as deployments and runs allow.</summary>
    public const int MaxValueLength = 1000;

    /// <summary>The most tag conditions one query may carry.</summary>
    public const int MaxPerQuery = 10;

    /// <summary>Whether <paramref name="tags"/> satisfy this condition.</summary>
    /// <param name="tags">A run's tags.</param>
    /// <returns>True when the key is there (with the value, when one is required).</returns>
    public bool Matches(IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        return tags.TryGetValue(Key, out var value) && (Value is null || string.Equals(value, Value, StringComparison.Ordinal));
    }

    /// <summary>Whether <paramref name="tags"/> satisfy every condition of <paramref name="filters"/> (true for none).</summary>
    /// <param name="filters">The conditions.</param>
    /// <param name="tags">A run's tags.</param>
    /// <returns>True when all match.</returns>
    public static bool MatchAll(IReadOnlyList<RunTagFilter> filters, IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(filters);
        foreach (var filter in filters)
        {
            if (!filter.Matches(tags))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Reads <c>key</c> or <c>key=value</c>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="filter">The condition, when valid.</param>
    /// <param name="error">Why the text is not a tag condition, when invalid.</param>
    /// <returns>True when valid.</returns>
    public static bool TryParse(string? text, out RunTagFilter? filter, out string? error)
    {
        filter = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "a tag is 'key' or 'key=value'; this one is empty";
            return false;
        }

        var separator = text.IndexOf('=', StringComparison.Ordinal);
        var key = separator < 0 ? text : text[..separator];
        var value = separator < 0 ? null : text[(separator + 1)..];
        var candidate = new RunTagFilter(key, value);
        error = candidate.Problem();
        if (error is not null)
        {
            return false;
        }

        filter = candidate;
        return true;
    }

    /// <summary>What is wrong with this condition, or null when it is valid.</summary>
    /// <returns>The problem, or null.</returns>
    public string? Problem()
    {
        if (string.IsNullOrEmpty(Key) || Key.Length > MaxKeyLength || Key.Any(char.IsControl))
        {
            return $"tag key '{Key}' must be 1-{MaxKeyLength} characters without control characters";
        }

        if (Value is not null && (Value.Length > MaxValueLength || Value.Any(char.IsControl)))
        {
            return $"the value of tag '{Key}' must be at most {MaxValueLength} characters without control characters";
        }

        return null;
    }

    /// <summary>The condition as written: <c>key</c> or <c>key=value</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Value is null ? Key : Key + "=" + Value;
}
