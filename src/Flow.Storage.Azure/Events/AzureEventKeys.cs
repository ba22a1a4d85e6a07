using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Flow.Storage.Azure;

/// <summary>The keys of the <c>{prefix}Events</c> table (docs/events.md).</summary>
internal static class AzureEventKeys
{
    /// <summary>The partition of the feed's head row (the next position to hand out) and its RowKey.</summary>
    public const string HeadPartition = "feed";
    public const string HeadRow = "head";

    /// <summary>The RowKey of the feed's floor in <see cref="HeadPartition"/>: the lowest position retention kept (docs/events.md).</summary>
    public const string FloorRow = "floor";

    /// <summary>The partition of the outbox markers: one row per run whose transitions may still hold events to relay.</summary>
    public const string OutboxPartition = "outbox";

    /// <summary>The partition listing the day partitions that hold events (RowKey <c>yyyyMMdd</c>).</summary>
    public const string DaysPartition = "days";

    /// <summary>Feed rows per feed partition.</summary>
    public const long FeedRowsPerPartition = 1000;

    /// <summary>The view of every event in a day partition.</summary>
    public const string AllView = "a~";

    private const int MaxKeyPart = 300;

    /// <summary>The feed partition of position <paramref name="position"/>: <c>f-{position / 1000:D16}</c>.</summary>
    public static string FeedPartition(long position) => "f-" + (position / FeedRowsPerPartition).ToString("D16", CultureInfo.InvariantCulture);

    /// <summary>The RowKey of feed position <paramref name="position"/>: 19 digits.</summary>
    public static string FeedRow(long position) => position.ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>The day partition of an event's time: <c>d-yyyyMMdd</c>.</summary>
    public static string DayPartition(DateTimeOffset time) => "d-" + Day(time);

    /// <summary>The day of a time as the RowKey of its row in <see cref="DaysPartition"/>: <c>yyyyMMdd</c>.</summary>
    public static string Day(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>The view of the events of one resource (own or related): <c>r~{resource}~</c>.</summary>
    public static string ResourceView(string resourceId) => "r~" + Part(resourceId) + "~";

    /// <summary>The view of the events of one kind family (the kind up to its first dot): <c>k~{family}~</c>.</summary>
    public static string KindView(string family) => "k~" + Part(family) + "~";

    /// <summary>The kind family of a kind: the text before its first dot, or the whole kind.</summary>
    public static string Family(string kind)
    {
        var dot = kind.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? kind : kind[..dot];
    }

    /// <summary>A view's RowKey of an event: <c>{view}{inverted ticks}~{id}</c>, newest first.</summary>
    public static string ViewRow(string view, DateTimeOffset time, string id) => view + FlowKeys.InvertedTicks(time) + "~" + Part(id);

    /// <summary>The id row of an event: its partition (one of 256, by hash) and RowKey.</summary>
    public static (string PartitionKey, string RowKey) IdRow(string id) =>
        ("id-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)))[..2], Part(id));

    /// <summary>Text made usable in a key: escaped (<see cref="FlowKeys.Escape"/>), and a long one cut and completed with a hash of the whole.</summary>
    public static string Part(string value)
    {
        var escaped = FlowKeys.Escape(value);
        return escaped.Length <= MaxKeyPart
            ? escaped
            : escaped[..200] + "%%" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..32];
    }
}
