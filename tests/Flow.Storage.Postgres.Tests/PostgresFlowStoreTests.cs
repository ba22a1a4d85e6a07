using System.Collections.Concurrent;
using System.Diagnostics;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;
using Npgsql;

namespace Flow.Storage.Postgres.Tests;

/// <summary>What the PostgreSQL store promises beyond the conformance suite: one round trip per commit, indexed listing, readable rows.</summary>
public sealed class PostgresFlowStoreTests(PostgresFixture postgres) : PostgresTestBase(postgres)
{
    [Fact]
    public async Task CommitAsync_RunRecordAndOneEvent_IsOneStatementOneRoundTrip()
    {
        var stored = await CreateAsync(NewRun("rt-1"));
        var statements = new ConcurrentQueue<string>();
        using var listener = ListenToStatements(statements);

        for (var i = 1; i <= 5; i++)
        {
            var run = stored.Record with { JournalLength = i, HeartbeatAt = T0.AddSeconds(i) };
            stored = await Store.CommitAsync(new RunCommit
            {
                ExpectedVersion = stored.Version,
                Run = run,
                Events = [new JournalEvent { Index = i, Kind = JournalEventKind.TaskCompleted, CallId = i, Timestamp = T0, Payload = "1" }],
            }, Ct);
        }

        Assert.Equal(5, statements.Count); // one statement per commit, and nothing else (no BEGIN/COMMIT, no reads)
        Assert.All(statements, s => Assert.StartsWith("WITH r AS (UPDATE", s, StringComparison.Ordinal));
        Assert.Equal("6", stored.Version);
    }

    [Fact]
    public async Task CommitAsync_StaleVersion_WritesNothingAndThrowsConcurrencyException()
    {
        var stored = await CreateAsync(NewRun("stale-1"));
        var first = await Store.CommitAsync(new RunCommit { ExpectedVersion = stored.Version, Run = stored.Record with { StateMessage = "first" } }, Ct);

        await Assert.ThrowsAsync<ConcurrencyException>(() => Store.CommitAsync(new RunCommit
        {
            ExpectedVersion = stored.Version,
            Run = stored.Record with { JournalLength = 1, LogCount = 1 },
            Events = [new JournalEvent { Index = 1, Kind = JournalEventKind.Marker, Timestamp = T0 }],
            Logs = [new RunLogLine(T0, "Information", "never")],
        }, Ct));

        Assert.Equal(first.Version, (await Store.GetRunAsync("stale-1", Ct))!.Version);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM {s}.journal_events WHERE run_id = 'stale-1'"));
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM {s}.run_logs WHERE run_id = 'stale-1'"));
    }

    [Fact]
    public async Task Rows_AreReadableInSql_StatesAsWordsTagsAsJsonAndAVersionColumn()
    {
        var stored = await CreateAsync(NewRun("sql-1", flow: "etl") with { Tags = new Dictionary<string, string> { ["team"] = "data" }, Parameters = """{"day":"2026-11-05"}""" });

        Assert.Equal("Pending", await ScalarAsync<string>("SELECT state FROM {s}.runs WHERE run_id = 'sql-1'"));
        Assert.Equal("data", await ScalarAsync<string>("SELECT tags->>'team' FROM {s}.runs WHERE run_id = 'sql-1'"));
        Assert.Equal("2026-11-05", await ScalarAsync<string>("SELECT parameters::jsonb->>'day' FROM {s}.runs WHERE run_id = 'sql-1'"));
        Assert.Equal(long.Parse(stored.Version, System.Globalization.CultureInfo.InvariantCulture), await ScalarAsync<long>("SELECT version FROM {s}.runs WHERE run_id = 'sql-1'"));
        Assert.Equal("created", await ScalarAsync<string>("SELECT message FROM {s}.state_transitions WHERE run_id = 'sql-1' AND idx = 1"));
    }

    [Fact]
    public async Task Text_WithU0000_IsStoredWithTheSymbolForNull()
    {
        var stored = await CreateAsync(NewRun("nul-1") with { StateMessage = "a\0b" });

        Assert.Equal("a\u2400b", stored.Record.StateMessage is null ? null : (await Store.GetRunAsync("nul-1", Ct))!.Record.StateMessage);
    }

    [Fact]
    public async Task ListRunsAsync_200000Runs_RecentStateFlowDeploymentAndLateListingsAreIndexRangesWithoutSorting()
    {
        await ScalarAsync<int>(
            """
            WITH g AS (SELECT g, timestamptz '2026-01-01' + g * interval '1 second' AS ts FROM generate_series(1, 200000) g),
            i AS (
                INSERT INTO {s}.runs (run_id, version, flow_name, pool, deployment, state, state_time, attempt, journal_length, transition_count, log_count, created_at, scheduled_at, tags)
                SELECT 'run-' || lpad(g::text, 7, '0'), 1, 'flow-' || (g % 20), 'default', CASE WHEN g % 3 = 0 THEN 'etl/daily-' || (g % 10) END,
                       (ARRAY['Completed', 'Failed', 'Running', 'Scheduled'])[g % 4 + 1], ts, 1, 0, 1, 0, ts, ts,
                       CASE WHEN g % 1000 = 0 THEN jsonb_build_object('team', 'data', 'shard', (g % 7000)::text) ELSE '{}'::jsonb END
                FROM g RETURNING 1)
            SELECT count(*)::integer FROM i
            """);
        await ScalarAsync<int>("SELECT 1 FROM (SELECT 1) x; ANALYZE {s}.runs");

        var queries = new List<RunQuery>
        {
            new(),
            new() { State = RunState.Running },
            new() { FlowName = "flow-7" },
            new() { State = RunState.Failed, CreatedFrom = new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero) },
            new() { Deployment = "etl/daily-3" },
            new() { Deployment = "etl/daily-3", State = RunState.Failed },
            new() { LateCutoff = new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero) },
        };
        var page = await Store.ListRunsAsync(new RunQuery { State = RunState.Completed, PageSize = 100 }, Ct);
        queries.Add(new RunQuery { State = RunState.Completed, PageSize = 100, ContinuationToken = page.ContinuationToken });

        foreach (var query in queries)
        {
            var (sql, parameters) = Store.BuildListQuery(query);
            var plan = await ExplainAsync(sql, parameters);
            Assert.DoesNotContain("Seq Scan", plan, StringComparison.Ordinal);
            Assert.DoesNotContain("Sort", plan, StringComparison.Ordinal);
            Assert.Contains("Index Scan", plan, StringComparison.Ordinal);

            var watch = Stopwatch.StartNew();
            var result = await Store.ListRunsAsync(query, Ct);
            Assert.Equal(query.PageSize, result.Runs.Count);
            Assert.True(watch.ElapsedMilliseconds < 1000, $"{sql} took {watch.ElapsedMilliseconds} ms");
        }
    }

    [Fact]
    public async Task ListRunsAsync_ByTag_UsesTheTagIndexNotAScan()
    {
        await ScalarAsync<int>("""
            WITH g AS (SELECT g, timestamptz '2026-01-01' + g * interval '1 second' AS ts FROM generate_series(1, 100000) g),
            i AS (
                INSERT INTO {s}.runs (run_id, version, flow_name, pool, state, state_time, attempt, journal_length, transition_count, log_count, created_at, scheduled_at, tags)
                SELECT 'run-' || lpad(g::text, 7, '0'), 1, 'flow-' || (g % 20), 'default', 'Completed', ts, 1, 0, 1, 0, ts, ts,
                       CASE WHEN g % 1000 = 0 THEN jsonb_build_object('team', 'data', 'env', CASE WHEN g % 2000 = 0 THEN 'prod' ELSE 'dev' END) ELSE jsonb_build_object('n', g::text) END
                FROM g RETURNING 1)
            SELECT count(*)::integer FROM i
            """);
        await ScalarAsync<int>("SELECT 1 FROM (SELECT 1) x; ANALYZE {s}.runs");

        foreach (var query in new RunQuery[] { new() { Tags = [new("team", null)] }, new() { Tags = [new("team", "data"), new("env", "prod")], PageSize = 20 } })
        {
            var (sql, parameters) = Store.BuildListQuery(query);
            var plan = await ExplainAsync(sql, parameters);
            Assert.DoesNotContain("Seq Scan", plan, StringComparison.Ordinal);
            Assert.Contains("runs_by_tags", plan, StringComparison.Ordinal);
            var result = await Store.ListRunsAsync(query, Ct);
            Assert.Equal(query.PageSize, result.Runs.Count);
            Assert.All(result.Runs, r => Assert.True(RunTagFilter.MatchAll(query.Tags, r.Tags)));
        }
    }

    private async Task<string> ExplainAsync(string sql, List<NpgsqlParameter> parameters)
    {
        await using var connection = await DataSource.OpenConnectionAsync(Ct);
        await using var command = new NpgsqlCommand("EXPLAIN " + sql, connection);
        command.Parameters.AddRange(parameters.Select(p => p.Clone()).ToArray());
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var lines = new List<string>();
        while (await reader.ReadAsync(Ct))
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join('\n', lines);
    }

    /// <summary>Records the text of every statement Npgsql sends in this test's schema (tests in parallel use other schemas).</summary>
    private ActivityListener ListenToStatements(ConcurrentQueue<string> statements)
    {
        var schema = "\"" + Options.Schema + "\"";
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith("Npgsql", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                foreach (var tag in activity.TagObjects)
                {
                    if (tag.Value is string text && text.Contains(schema, StringComparison.Ordinal) && tag.Key.Contains("statement", StringComparison.Ordinal) | tag.Key.Contains("query", StringComparison.Ordinal))
                    {
                        statements.Enqueue(text);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
