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
    public static (SchedulePreviewQuery Query, IResult? Error) Read(IQueryCollection query)
    {
        var fallback = new SchedulePreviewQuery(10, null);
        foreach (var key in query.Keys)
        {
            if (!Known.Contains(key, StringComparer.Ordinal))
            {
                return (fallback, Problems.Field(key, $"unknown query parameter; this endpoint takes {string.Join(" and ", Known)}"));
            }
        }

        var count = 10;
        if (query.TryGetValue("count", out var countText)
            && (countText.Count != 1 || !int.TryParse(countText[0], NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > 1000))
        {
            return (fallback, Problems.Field("count", "must be one whole number from 1 to 1000"));
        }

        DateTimeOffset? from = null;
        if (query.TryGetValue("from", out var fromText))
        {
            if (fromText.Count != 1
                || !DateTimeOffset.TryParse(fromText[0], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                || parsed.Year is < 2 or > 9990)
            {
                return (fallback, Problems.Field("from", "must be one ISO 8601 time such as 2026-03-08T00:00:00Z or 2026-03-08T00:00:00-05:00 (no offset means UTC)"));
            }

            from = parsed;
        }

        return (new SchedulePreviewQuery(count, from), null);
    }
}
