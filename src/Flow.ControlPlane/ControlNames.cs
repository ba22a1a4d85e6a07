using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Flow.ControlPlane;

/// <summary>Names and ids of the control plane: deployments, pools, schedules and the deterministic run ids they produce.</summary>
public static class ControlNames
{
    /// <summary>The name of the pool that exists out of the box.</summary>
    public const string DefaultPool = "default";

    /// <summary>The run tag naming the schedule that created a run (<c>deployment-schedule-id</c>).</summary>
    public const string ScheduleTag = Flow.Engine.RunTagNames.Schedule;

    /// <summary>Whether a flow or deployment name part is valid: 1-100 ASCII letters, digits, '-', '_' and '.'.</summary>
    /// <param name="part">The part.</param>
    /// <returns>True when valid.</returns>
    public static bool IsValidNamePart(string? part) =>
        part is { Length: > 0 and <= 100 } && part.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>Whether a pool name is valid: 1-40 lowercase ASCII letters, digits and '-', starting with a letter or digit (it becomes part of queue names).</summary>
    /// <param name="name">The name.</param>
    /// <returns>True when valid.</returns>
    public static bool IsValidPoolName(string? name) =>
        name is { Length: > 0 and <= 40 } && (char.IsAsciiLetterLower(name[0]) || char.IsAsciiDigit(name[0]))
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

    /// <summary>Whether a schedule id is valid: 1-40 ASCII letters, digits, '-' and '_'.</summary>
    /// <param name="id">The id.</param>
    /// <returns>True when valid.</returns>
    public static bool IsValidScheduleId(string? id) =>
        id is { Length: > 0 and <= 40 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>The full deployment name.</summary>
    /// <param name="flowName">The flow.</param>
    /// <param name="deploymentName">The deployment.</param>
    /// <returns><c>flow/deployment</c>.</returns>
    public static string Deployment(string flowName, string deploymentName) => flowName + "/" + deploymentName;

    /// <summary>The run id of one occurrence of a schedule: the same for every scheduler that computes it, so overlapping ticks create one run.</summary>
    /// <param name="deployment">The full deployment name.</param>
    /// <param name="scheduleId">The schedule id.</param>
    /// <param name="occurrence">The occurrence.</param>
    /// <returns>A run id such as <c>etl.daily-s0-20261122T060000Z</c>.</returns>
    public static string ScheduledRunId(string deployment, string scheduleId, DateTimeOffset occurrence)
    {
        var stamp = occurrence.UtcDateTime.ToString(occurrence.Millisecond == 0 ? "yyyyMMdd'T'HHmmss'Z'" : "yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
        return Compose(deployment, scheduleId + "-" + stamp);
    }

    /// <summary>The run id of a triggered run with an idempotency key: the same key gives the same run.</summary>
    /// <param name="deployment">The full deployment name.</param>
    /// <param name="idempotencyKey">The key.</param>
    /// <returns>A run id such as <c>etl.daily-k-3f2a…</c>.</returns>
    public static string KeyedRunId(string deployment, string idempotencyKey) =>
        Compose(deployment, "k-" + Hash(deployment + "\n" + idempotencyKey, 24));

    private static string Compose(string deployment, string suffix)
    {
        var slug = deployment.Replace('/', '.');
        var id = slug + "-" + suffix;
        return id.Length <= 100 ? id : slug[..Math.Min(slug.Length, 99 - suffix.Length - 13)] + "-" + Hash(slug, 12) + "-" + suffix;
    }

    private static string Hash(string text, int length) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..length];
}
