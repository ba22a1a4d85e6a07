using System.Globalization;
using Flow.Engine.Events;
using Npgsql;
using static Flow.Storage.Postgres.PgValues;

namespace Flow.Storage.Postgres;

/// <summary>The SQL that writes events, shared by the run commits (<see cref="PostgresFlowStore"/>: in the commit's statement)
/// and <see cref="PostgresEventStore.AppendAsync"/>.</summary>
internal static class PostgresEventSql
{
    /// <summary>Separates resource ids in one text value; ids hold no control characters (<see cref="EventRules"/>).</summary>
    private const char Separator = '\n';

    /// <summary>
    /// An <c>INSERT … SELECT … FROM {from}unnest(…) … ON CONFLICT (id) DO NOTHING</c> of <paramref name="events"/>, with its
    /// parameters appended to <paramref name="parameters"/> (numbered after those already there).
    /// </summary>
    /// <param name="schema">The quoted schema.</param>
    /// <param name="events">The events.</param>
    /// <param name="parameters">The statement's parameters so far.</param>
    /// <param name="from">A relation to join first (<c>"r, "</c>: insert only when the run's update matched), or empty.</param>
    /// <returns>The statement.</returns>
    public static string Insert(string schema, IReadOnlyList<FlowEvent> events, List<NpgsqlParameter> parameters, string from)
    {
        string Next(NpgsqlParameter parameter)
        {
            parameters.Add(parameter);
            return "$" + parameters.Count.ToString(CultureInfo.InvariantCulture);
        }

        var ids = Next(Texts(events.Select(e => e.Id)));
        var times = Next(Times(events.Select(e => (DateTimeOffset?)e.OccurredAt)));
        var kinds = Next(Texts(events.Select(e => e.Kind)));
        var resources = Next(Texts(events.Select(e => string.Join(Separator, ResourceIds(e)))));
        var bodies = Next(Texts(events.Select(EventJson.Serialize)));
        return $"""
            INSERT INTO {schema}.events (id, occurred_at, kind, resource_ids, body)
            SELECT u.id, u.at, u.kind, string_to_array(u.rs, E'\n'), u.body
            FROM {from}unnest({ids}::text[], {times}::timestamptz[], {kinds}::text[], {resources}::text[], {bodies}::text[]) AS u(id, at, kind, rs, body)
            ON CONFLICT (id) DO NOTHING
            """;
    }

    /// <summary>The event's own resource id and its related resources' ids, distinct.</summary>
    public static IEnumerable<string> ResourceIds(FlowEvent flowEvent) =>
        flowEvent.Related.Select(r => r.Id).Prepend(flowEvent.Resource.Id).Distinct(StringComparer.Ordinal);
}
