using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flow.ControlPlane.Scheduling;

namespace Flow.ControlPlane.Tests.Scheduling;

/// <summary>
/// One row of a schedule table: a cron expression (or an interval with its anchor), a zone and a
/// window, and the occurrences expected in it, written as local times with their offsets.
/// </summary>
public sealed record ScheduleCase(
    string Name,
    string? Cron,
    string? Interval,
    string? Anchor,
    string? Zone,
    string After,
    string Until,
    int Max,
    IReadOnlyList<string> Expected)
{
    /// <summary>The folder holding the tables.</summary>
    public static readonly string Directory = Path.Combine(RepoPaths.Root, "tests", "Flow.ControlPlane.Tests", "Scheduling");

    /// <summary>Rows written by hand from the known 2026 transition dates.</summary>
    public const string HandWrittenFile = "schedule-cases-handwritten.json";

    /// <summary>Rows whose expected occurrences the brute-force oracle computed.</summary>
    public const string OracleFile = "schedule-cases-oracle.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,

        // Test data read by people: keep '+' and quotes as they are.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly Dictionary<string, IReadOnlyList<ScheduleCase>> Cache = [];

    /// <summary>The rows of a table file.</summary>
    public static IReadOnlyList<ScheduleCase> Load(string file)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(file, out var rows))
            {
                rows = JsonSerializer.Deserialize<List<ScheduleCase>>(File.ReadAllText(Path.Combine(Directory, file)), Json)!;
                Cache[file] = rows;
            }

            return rows;
        }
    }

    /// <summary>Theory data: one row name per case, "index: name".</summary>
    public static TheoryData<string> Rows(string file)
    {
        var data = new TheoryData<string>();
        var rows = Load(file);
        for (var i = 0; i < rows.Count; i++)
        {
            data.Add($"{i}: {rows[i].Name}");
        }

        return data;
    }

    /// <summary>The case a theory row names.</summary>
    public static ScheduleCase Find(string file, string row) =>
        Load(file)[int.Parse(row[..row.IndexOf(':', StringComparison.Ordinal)], CultureInfo.InvariantCulture)];

    /// <summary>Writes rows one per line, so a diff shows which cases changed.</summary>
    public static void Save(string file, IEnumerable<ScheduleCase> rows)
    {
        var text = new StringBuilder("[\n");
        var first = true;
        foreach (var row in rows)
        {
            text.Append(first ? "  " : ",\n  ").Append(JsonSerializer.Serialize(row, Json));
            first = false;
        }

        File.WriteAllText(Path.Combine(Directory, file), text.Append("\n]\n").ToString());
    }

    /// <summary>An occurrence as the tables write it: local time with offset, to the second.</summary>
    public static string Format(DateTimeOffset value) => value.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    /// <summary>The time zone (UTC when none is given).</summary>
    [JsonIgnore]
    public TimeZoneInfo TimeZone => Zone is null ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(Zone);

    /// <summary>The rule under test.</summary>
    public ScheduleRule CreateRule() => Cron is not null
        ? CronSchedule.Parse(Cron, Zone)
        : new IntervalSchedule(TimeSpan.Parse(Interval!, CultureInfo.InvariantCulture), Anchor is null ? null : Parse(Anchor), Zone);

    /// <summary>The occurrences the code under test returns for this row's window.</summary>
    public List<string> Actual() => CreateRule().GetOccurrences(Parse(After), Parse(Until), Max).Select(Format).ToList();

    /// <summary>The occurrences the brute-force oracle finds for this row's window.</summary>
    public List<string> FromOracle() => (Cron is not null
            ? BruteForceOracle.Cron(Cron, TimeZone, Parse(After), Parse(Until), Max)
            : BruteForceOracle.Interval(TimeSpan.Parse(Interval!, CultureInfo.InvariantCulture), Anchor is null ? IntervalSchedule.DefaultAnchor : Parse(Anchor), TimeZone, Parse(After), Parse(Until), Max))
        .Select(Format).ToList();

    private static DateTimeOffset Parse(string value) => DateTimeOffset.Parse(value, CultureInfo.InvariantCulture);
}
