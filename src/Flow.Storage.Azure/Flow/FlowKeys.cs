using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Flow.Engine.Storage;

namespace Flow.Storage.Azure;

/// <summary>
/// The table layout's keys (docs/azure-storage.md): readable RowKeys with fixed-width numbers so they sort in
/// order, and an escape for the characters Azure forbids in keys. A chunk row of a large value sorts right after
/// the row that owns it: <c>{owner}~{property}-{id}-{0000}</c>; no other RowKey contains '~'.
/// </summary>
internal static partial class FlowKeys
{
    public const string RunRow = "run";
    public const string TransitionPrefix = "state-";
    public const string JournalPrefixRoot = "journal-";
    public const string InboxPrefix = "inbox-";
    public const string LogPrefix = "log-";
    public const string ArtifactPrefix = "artifact-";
    public const char ChunkMark = '~';

    /// <summary>Sorts after every chunk row of an owner: <c>{owner}~~</c> bounds <c>[owner, owner~~)</c>.</summary>
    public const string AfterChunks = "~~";

    public const string RecentPartition = "recent";
    public const string FlowPartitionPrefix = "flow-";
    public const string StatePartitionPrefix = "state-";
    public const string DeploymentPartitionPrefix = "deployment-";

    /// <summary>The index partition of runs that can become Late (Scheduled or Pending, never started), keyed by scheduled time.</summary>
    public const string DuePartition = "due";

    /// <summary>Separates a deployment's partition name from the state in its per-state partitions (escaped names never hold it).</summary>
    public const char DeploymentStateMark = '~';

    public const int MaxAttempt = 9_999;
    public const int MaxJournalIndex = 999_999;
    public const int MaxTransitionIndex = 999_999;
    public const int MaxLogNumber = 99_999_999;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Transition(int index) => TransitionPrefix + Number(index, MaxTransitionIndex, "D6", "state transition");

    public static string JournalPrefix(int attempt) => JournalPrefixRoot + Number(attempt, MaxAttempt, "D4", "flow-run attempt") + "-";

    public static string Journal(int attempt, int index) => JournalPrefix(attempt) + Number(index, MaxJournalIndex, "D6", "journal event");

    /// <summary>The first RowKey after events 1..<paramref name="length"/> of an attempt (and their chunk rows).</summary>
    public static string JournalEnd(int attempt, int length) => JournalPrefix(attempt) + (length + 1).ToString("D6", Inv);

    public static string Inbox(string id) => InboxPrefix + id;

    public static string Log(int number) => LogPrefix + Number(number, MaxLogNumber, "D8", "log line");

    public static string Artifact(string key) => ArtifactPrefix + Escape(key);

    public static bool IsChunk(string rowKey) => rowKey.Contains(ChunkMark, StringComparison.Ordinal);

    public static string FlowPartition(string flowName) => FlowPartitionPrefix + Escape(flowName);

    public static string StatePartition(Flow.Sdk.RunState state) => StatePartitionPrefix + state.ToString();

    /// <summary>The index partition of a deployment's runs: <c>deployment-{name}</c> (escaped, so <c>etl%2Fdaily</c>).</summary>
    public static string DeploymentPartition(string deployment) => DeploymentPartitionPrefix + Escape(deployment);

    /// <summary>The index partition of a deployment's runs in one state: <c>deployment-{name}~{State}</c>; '~' is escaped in names, so no two partitions collide.</summary>
    public static string DeploymentStatePartition(string deployment, Flow.Sdk.RunState state) => DeploymentPartition(deployment) + DeploymentStateMark + state.ToString();

    /// <summary>Newest first: 19 digits of <c>DateTimeOffset.MaxValue.UtcTicks - t.UtcTicks</c>.</summary>
    public static string InvertedTicks(DateTimeOffset time) => (DateTimeOffset.MaxValue.UtcTicks - time.UtcTicks).ToString("D19", Inv);

    /// <summary>The index RowKey of a run in <c>recent</c> and <c>flow-…</c>: inverted creation ticks, then the run id.</summary>
    public static string IndexRow(FlowRunRecord run) => InvertedTicks(run.CreatedAt) + "-" + run.RunId;

    /// <summary>The index RowKey of a run in <c>state-…</c>: <see cref="IndexRow"/> plus the transition that entered the state.</summary>
    public static string StateIndexRow(FlowRunRecord run, int enteredAt) => IndexRow(run) + "-" + enteredAt.ToString("D6", Inv);

    /// <summary>The index RowKey of a run in <c>due</c>: inverted scheduled ticks (newest scheduled first), the run id, and the transition that entered the state.</summary>
    public static string DueIndexRow(FlowRunRecord run, int enteredAt) => DueIndexPrefix(run) + "-" + enteredAt.ToString("D6", Inv);

    /// <summary>The start of every <c>due</c> RowKey of a run: inverted scheduled ticks, then the run id.</summary>
    public static string DueIndexPrefix(FlowRunRecord run) => InvertedTicks(run.ScheduledAt) + "-" + run.RunId;

    /// <summary>True for ids <see cref="StorageContract.ValidateRunId"/> accepts: no run can have any other id, so reads of one find nothing.</summary>
    public static bool IsValidRunId(string runId) => RunIdPattern().IsMatch(runId);

    /// <summary>
    /// Makes any text usable inside a key, reversibly and readably: '%', '/', '\', '#', '?', '~' and control
    /// characters become <c>%XX</c>; everything else is kept.
    /// </summary>
    public static string Escape(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var i = 0;
        while (i < value.Length && !MustEscape(value[i]))
        {
            i++;
        }

        if (i == value.Length)
        {
            return value;
        }

        var builder = new StringBuilder(value.Length + 8);
        builder.Append(value, 0, i);
        for (; i < value.Length; i++)
        {
            var c = value[i];
            if (MustEscape(c))
            {
                builder.Append('%').Append(((int)c).ToString("X2", Inv));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static bool MustEscape(char c) => c is '%' or '/' or '\\' or '#' or '?' or ChunkMark || char.IsControl(c);

    private static string Number(int value, int max, string format, string what)
    {
        if (value < 0 || value > max)
        {
            throw new FlowStoreException($"The {what} number {value} is outside what the Azure layout keys can hold (0 to {max:N0}).");
        }

        return value.ToString(format, Inv);
    }

    [GeneratedRegex(@"^[A-Za-z0-9_.-]{1,100}\z", RegexOptions.CultureInvariant)]
    private static partial Regex RunIdPattern();
}
