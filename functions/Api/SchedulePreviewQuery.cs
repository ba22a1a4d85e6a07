using System.Globalization;

namespace Flow.Functions.Api;

/// <summary>
/// The query of <c>GET /api/deployments/{flow}/{name}/schedule</c>: <c>count</c> (1-1000, default 10) and
/// <c>from</c> (an ISO 8601 time, default now). Any other parameter is refused with a 400 naming it, so a
/// misspelt <c>form=</c> is an error rather than silently ignored.
/// </summary>
/// <param name="Count">How many occurrences.</param>
/// <param name="From">Occurrences strictly after this instant; null for now.</param>
internal sealed record SchedulePreviewQuery(int Count, DateTimeOffset? From)
{
    private static readonly string[] Known = ["count", "from"];

    /// <summary>Reads and checks the query; on failure the problem+json result to return.</summary>
    /// <param name="keys">Every query parameter name given.</param>
    /// <param name="count">The <c>count</c> parameter, if given.</param>
    /// <param name="from">The <c>from</c> parameter, if given.</param>
    public static (SchedulePreviewQuery Query, IResult? Error) Read(IEnumerable<string> keys, string? count, string? from)
    {
        var fallback = new SchedulePreviewQuery(10, null);
        foreach (var key in keys)
        {
            if (!Known.Contains(key, StringComparer.Ordinal))
            {
                return (fallback, Problems.Field(key, $"unknown query parameter; this endpoint takes {string.Join(" and ", Known)}"));
            }
        }

        var howMany = 10;
        if (count is not null && (!int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out howMany) || howMany is < 1 or > 1000))
        {
            return (fallback, Problems.Field("count", "must be a whole number from 1 to 1000"));
        }

        DateTimeOffset? after = null;
        if (from is not null)
        {
            if (!DateTimeOffset.TryParse(from, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) || parsed.Year is < 2 or > 9990)
            {
                return (fallback, Problems.Field("from", "must be an ISO 8601 time such as 2026-03-08T00:00:00Z or 2026-03-08T00:00:00-05:00 (no offset means UTC)"));
            }

            after = parsed;
        }

        return (new SchedulePreviewQuery(howMany, after), null);
    }
}
