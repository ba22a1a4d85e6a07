using System.Globalization;
using System.Text;
using System.Text.Json;
using Flow.Engine.Events;
using Flow.Engine.Storage;
using Npgsql;
using NpgsqlTypes;
using static Flow.Storage.Postgres.PgValues;

namespace Flow.Storage.Postgres;

/// <content>Building a commit: the run row's version-checked update and everything appended with it, as one statement.</content>
public sealed partial class PostgresFlowStore
{
    private (string Sql, NpgsqlParameter[] Parameters) BuildCommit(RunCommit commit, FlowRunRecord run, long expected)
    {
        var parameters = new List<NpgsqlParameter> { Str(run.RunId), P(expected) };
        AddMutable(parameters, run);
        var set = string.Join(", ", MutableColumns.Select((c, i) => $"{c} = ${i + 3}"));
        var sql = new StringBuilder(1024);
        sql.Append(CultureInfo.InvariantCulture, $"WITH r AS (UPDATE {_s}.runs SET version = version + 1, {set} WHERE run_id = $1 AND version = $2 RETURNING run_id, version)");

        string Next(NpgsqlParameter parameter)
        {
            parameters.Add(parameter);
            return "$" + parameters.Count.ToString(CultureInfo.InvariantCulture);
        }

        // Appends "name AS (INSERT … SELECT r.run_id, scalars…, u.* FROM r, unnest(arrays…) … ON CONFLICT …)".
        void Insert(string name, string table, string columns, string[] scalars, NpgsqlParameter[] arrays, string? conflict)
        {
            var unnest = string.Join(", ", arrays.Select(a => Next(a) + "::" + PgArrayType(a)));
            var scalarList = string.Concat(scalars.Select(s => ", " + s));
            sql.Append(CultureInfo.InvariantCulture, $",\n{name} AS (INSERT INTO {_s}.{table} ({columns}) SELECT r.run_id{scalarList}, u.* FROM r, unnest({unnest}) AS u {conflict})");
        }

        if (commit.Events.Count > 0)
        {
            var events = commit.Events.Select(StorageContract.Normalize).ToList();
            Insert("e", "journal_events", EventInsertColumns, [Next(P(run.Attempt))],
                [
                    Ints(events.Select(e => e.Index)), Texts(events.Select(e => e.Kind.ToString())), Ints(events.Select(e => e.CallId)),
                    Texts(events.Select(e => e.Name)), Ints(events.Select(e => e.Attempt)), Texts(events.Select(e => e.State?.ToString())),
                    Times(events.Select(e => (DateTimeOffset?)e.Timestamp)), Times(events.Select(e => e.StartedAt)), Times(events.Select(e => e.DueAt)),
                    Texts(events.Select(e => e.Payload)), Texts(events.Select(e => e.Failure?.Type)), Texts(events.Select(e => e.Failure?.Message)),
                    Texts(events.Select(e => e.Failure?.StackTrace)), Texts(events.Select(e => e.Detail)),
                ],
                "ON CONFLICT (run_id, attempt, idx) DO UPDATE SET " + Excluded(EventInsertColumns, 3));
        }

        if (commit.Transitions.Count > 0)
        {
            var transitions = commit.Transitions.Select(StorageContract.Normalize).ToList();
            Insert("t", "state_transitions", "run_id, idx, from_state, to_state, at, message, attempt", [],
                [
                    Ints(transitions.Select(t => t.Index)), Texts(transitions.Select(t => t.From?.ToString())), Texts(transitions.Select(t => t.To.ToString())),
                    Times(transitions.Select(t => (DateTimeOffset?)t.Timestamp)), Texts(transitions.Select(t => t.Message)), Ints(transitions.Select(t => t.Attempt)),
                ],
                "ON CONFLICT (run_id, idx) DO UPDATE SET " + Excluded("run_id, idx, from_state, to_state, at, message, attempt", 2));
        }

        if (commit.Transitions.Count > 0)
        {
            // The outbox: the transitions' events, inserted only when the run's update matched (joined to r).
            sql.Append(CultureInfo.InvariantCulture, $",\nev AS ({PostgresEventSql.Insert(_s, RunEvents.For(run, commit.Transitions), parameters, "r, ")})");
        }

        if (commit.InboxToRemove.Count > 0)
        {
            sql.Append(CultureInfo.InvariantCulture, $",\nd AS (DELETE FROM {_s}.inbox x USING r WHERE x.run_id = r.run_id AND x.item_id = ANY({Next(Texts(commit.InboxToRemove))}))");
        }

        if (commit.InboxToAdd.Count > 0)
        {
            var items = commit.InboxToAdd.Select(StorageContract.Normalize).ToList();
            Insert("i", "inbox", InboxInsertColumns, [],
                [
                    Texts(items.Select(i => i.Id)), Texts(items.Select(i => i.Kind.ToString())), Ints(items.Select(i => i.RunAttempt)), Ints(items.Select(i => i.CallId)),
                    Ints(items.Select(i => i.Attempt)), Texts(items.Select(i => i.Name)), Texts(items.Select(i => i.Payload)),
                    Texts(items.Select(i => i.Failure?.Type)), Texts(items.Select(i => i.Failure?.Message)), Texts(items.Select(i => i.Failure?.StackTrace)),
                    Times(items.Select(i => i.StartedAt)), Times(items.Select(i => (DateTimeOffset?)i.Timestamp)), Texts(items.Select(i => i.Detail)),
                ],
                null);
        }

        if (commit.Logs.Count > 0)
        {
            var first = run.LogCount - commit.Logs.Count + 1;
            var lines = commit.Logs.Select(StorageContract.Normalize).ToList();
            Insert("l", "run_logs", "run_id, line_no, logged_at, level, message, call_id, attempt", [],
                [
                    Ints(Enumerable.Range(first, lines.Count)), Times(lines.Select(l => (DateTimeOffset?)l.Timestamp)), Texts(lines.Select(l => l.Level)),
                    Texts(lines.Select(l => l.Message)), Ints(lines.Select(l => l.CallId)), Ints(lines.Select(l => l.Attempt)),
                ],
                "ON CONFLICT (run_id, line_no) DO UPDATE SET " + Excluded("run_id, line_no, logged_at, level, message, call_id, attempt", 2));
        }

        if (commit.Artifacts.Count > 0)
        {
            var artifacts = commit.Artifacts.Select(StorageContract.Normalize).ToList();
            Insert("a", "artifacts", "run_id, artifact_key, type, data, description, created_at, call_id", [],
                [
                    Texts(artifacts.Select(a => a.Key)), Texts(artifacts.Select(a => a.Type.ToString())), Texts(artifacts.Select(a => a.Data)),
                    Texts(artifacts.Select(a => a.Description)), Times(artifacts.Select(a => (DateTimeOffset?)a.CreatedAt)), Ints(artifacts.Select(a => a.CallId)),
                ],
                "ON CONFLICT (run_id, artifact_key) DO UPDATE SET " + Excluded("run_id, artifact_key, type, data, description, created_at, call_id", 2));
        }

        sql.Append("\nSELECT version FROM r");
        return (sql.ToString(), [.. parameters]);
    }

    private static string PgArrayType(NpgsqlParameter array) => array.NpgsqlDbType switch
    {
        NpgsqlDbType.Array | NpgsqlDbType.Integer => "integer[]",
        NpgsqlDbType.Array | NpgsqlDbType.TimestampTz => "timestamptz[]",
        _ => "text[]",
    };

    /// <summary>"c = excluded.c, …" for the columns after the first <paramref name="keyCount"/> (the conflict key).</summary>
    private static string Excluded(string columns, int keyCount) =>
        string.Join(", ", columns.Split(", ").Skip(keyCount).Select(c => $"{c} = excluded.{c}"));

    // ---------------------------------------------------------------- rows

    /// <summary>The run columns a commit writes (run_id, flow_name and created_at are fixed at creation), in <see cref="AddMutable"/>'s order.</summary>
    private static readonly string[] MutableColumns =
    [
        "pool", "deployment", "state", "state_message", "state_time", "attempt", "journal_length", "transition_count", "log_count",
        "parameters", "result", "failure_type", "failure_message", "failure_stack_trace", "tags", "parent_run_id", "parent_attempt",
        "parent_call_id", "scheduled_at", "started_at", "ended_at", "lease_owner", "lease_until", "wake_requested", "cancel_requested",
        "wake_at", "heartbeat_at", "flow_version", "hook_pending",
    ];

    private static readonly string RunColumns = "run_id, flow_name, created_at, version, " + string.Join(", ", MutableColumns);

    private const string EventInsertColumns =
        "run_id, attempt, idx, kind, call_id, name, task_attempt, state, recorded_at, started_at, due_at, payload, failure_type, failure_message, failure_stack_trace, detail";

    private const string EventColumns =
        "idx, kind, call_id, name, task_attempt, state, recorded_at, started_at, due_at, payload, failure_type, failure_message, failure_stack_trace, detail";

    private const string InboxInsertColumns =
        "run_id, item_id, kind, run_attempt, call_id, task_attempt, name, payload, failure_type, failure_message, failure_stack_trace, started_at, delivered_at, detail";

    private const string InboxColumns =
        "item_id, kind, run_attempt, call_id, task_attempt, name, payload, failure_type, failure_message, failure_stack_trace, started_at, delivered_at, detail";

    private static void AddMutable(List<NpgsqlParameter> parameters, FlowRunRecord run)
    {
        parameters.AddRange(
        [
            Str(run.Pool), Str(run.Deployment), Str(run.State.ToString()), Str(run.StateMessage), Time(run.StateTime), P(run.Attempt),
            P(run.JournalLength), P(run.TransitionCount), P(run.LogCount), Str(run.Parameters), Str(run.Result), Str(run.Failure?.Type),
            Str(run.Failure?.Message), Str(run.Failure?.StackTrace),
            new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = JsonSerializer.Serialize(run.Tags.ToDictionary(kv => Text(kv.Key)!, kv => Text(kv.Value), StringComparer.Ordinal)) },
            Str(run.ParentRunId), P(run.ParentAttempt), P(run.ParentCallId), Time(run.ScheduledAt), Time(run.StartedAt), Time(run.EndedAt),
            Str(run.LeaseOwner), Time(run.LeaseUntil), P(run.WakeRequested), P(run.CancelRequested), Time(run.WakeAt), Time(run.HeartbeatAt),
            Str(run.FlowVersion), P(run.HookPending),
        ]);
    }
}
