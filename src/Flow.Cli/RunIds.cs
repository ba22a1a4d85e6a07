using Flow.Client;

namespace Flow.Cli;

/// <summary>Short run ids, as git shortens commits: the shortest prefix (at least 8 characters) unique among the ids shown, and the reverse lookup of a prefix.</summary>
internal static class RunIds
{
    /// <summary>The shortest prefix a listing shows.</summary>
    public const int MinimumShown = 8;

    /// <summary>The shortest prefix a command accepts.</summary>
    public const int MinimumAccepted = 4;

    /// <summary>How many pages of the newest runs (1,000 each) a prefix is looked up in; older runs need their full id.</summary>
    public const int LookupPages = 5;

    private const int PageSize = 1000;

    // The length of a generated run id (a GUID's 32 hex digits); idempotency-keyed ids are longer.
    private const int FullLength = 32;

    /// <summary>For each id, its shortest prefix of at least <see cref="MinimumShown"/> characters that no other id in <paramref name="ids"/> starts with.</summary>
    public static IReadOnlyDictionary<string, string> Shorten(IReadOnlyCollection<string> ids)
    {
        var sorted = ids.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < sorted.Length; i++)
        {
            var shared = Math.Max(i > 0 ? CommonPrefix(sorted[i - 1], sorted[i]) : 0, i + 1 < sorted.Length ? CommonPrefix(sorted[i], sorted[i + 1]) : 0);
            result[sorted[i]] = sorted[i][..Math.Min(sorted[i].Length, Math.Max(MinimumShown, shared + 1))];
        }

        return result;
    }

    /// <summary>The full id of the run <paramref name="prefix"/> names: itself when it is a run's full id or matches no listed run (the API then says whether it exists), the one run it starts when unique; a <see cref="CliException"/> naming the candidates when several match.</summary>
    public static async Task<string> ResolveAsync(FlowClient api, string prefix, CancellationToken ct)
    {
        prefix = prefix.Trim();
        if (prefix.Length < MinimumAccepted)
        {
            throw new CliException($"run id '{prefix}' is too short: give at least {MinimumAccepted} characters.");
        }

        if (prefix.Length >= FullLength)
        {
            // As long as a generated id: taken as a full id, without listing runs (the API says whether it exists).
            return prefix;
        }

        var matches = new List<string>();
        string? token = null;
        for (var page = 0; page < LookupPages; page++)
        {
            var list = await api.ListRunsAsync(new RunFilter { PageSize = PageSize, ContinuationToken = token }, ct).ConfigureAwait(false);
            foreach (var run in list.Runs)
            {
                var id = run.Id;
                if (id.Equals(prefix, StringComparison.Ordinal))
                {
                    return id;
                }

                if (id.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                {
                    matches.Add(id);
                }
            }

            token = list.ContinuationToken;
            if (token is null)
            {
                break;
            }
        }

        return matches.Count switch
        {
            0 => prefix,
            1 => matches[0],
            _ => throw new CliException($"run id prefix '{prefix}' is ambiguous; it starts {matches.Count} runs: {string.Join(", ", matches.Take(10))}{(matches.Count > 10 ? ", …" : string.Empty)}"),
        };
    }

    private static int CommonPrefix(string a, string b)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && a[n] == b[n])
        {
            n++;
        }

        return n;
    }
}
