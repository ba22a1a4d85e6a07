using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Flow.Engine.Storage;

namespace Flow.ControlPlane;

/// <summary>
/// The rules of <see cref="IControlStore"/> that need no storage, shared by every implementation so all backends accept
/// and reject the same input with the same exceptions (the conformance suite checks that they do). A store calls these
/// before it writes anything; each throws <see cref="ArgumentException"/> (or a subclass) naming what is wrong.
/// </summary>
/// <remarks>
/// Names are ASCII so they are valid in every backend's keys as they are (Azure Table keys forbid '/', '\', '#', '?' and
/// control characters; none can occur). Every other string (descriptions, parameters, tags, environment values) may hold
/// any well-formed Unicode. Records are kept as <see cref="Normalize(DeploymentRecord)"/> makes them: times in UTC to
/// the microsecond (<see cref="StorageContract.NormalizeTime(DateTimeOffset)"/>) and collections copied into immutable ones.
/// </remarks>
public static partial class ControlStoreContract
{
    /// <summary>The longest flow part and deployment part of a deployment name.</summary>
    public const int MaxDeploymentNamePartLength = 100;

    /// <summary>The longest work pool name.</summary>
    public const int MaxPoolNameLength = 40;

    /// <summary>The longest schedule id.</summary>
    public const int MaxScheduleIdLength = 40;

    /// <summary>The longest state key.</summary>
    public const int MaxStateKeyLength = 200;

    /// <summary>The longest rejected request id.</summary>
    public const int MaxRejectedRequestIdLength = 200;

    /// <summary>The longest rejected request source.</summary>
    public const int MaxRejectedRequestSourceLength = 200;

    /// <summary>The largest state value, and the largest reason, field and body of a rejected request: 32 KiB of UTF-8.</summary>
    public const int MaxTextBytes = 32 * 1024;

    /// <summary>The largest deployment or work pool, measured as its JSON (<see cref="MeasureJson{T}"/>): 32 KiB.</summary>
    public const int MaxRecordJsonBytes = 32 * 1024;

    /// <summary>The most rejected requests one list returns.</summary>
    public const int MaxRejectedListCount = 1000;

    /// <summary>Checks a deployment name: <c>flow/deployment</c>, each part 1-100 ASCII letters, digits, '-', '_' and '.'.</summary>
    /// <param name="name">The full name.</param>
    /// <returns>The flow part and the deployment part.</returns>
    /// <exception cref="ArgumentException">The name is malformed.</exception>
    public static (string Flow, string Deployment) ValidateDeploymentName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IsName(name.AsSpan(0, slash), MaxDeploymentNamePartLength, ".") || !IsName(name.AsSpan(slash + 1), MaxDeploymentNamePartLength, "."))
        {
            throw new ArgumentException(
                $"'{Shorten(name)}' is not a deployment name: flow/deployment, each part 1-{MaxDeploymentNamePartLength} ASCII letters, digits, '-', '_' and '.'.",
                nameof(name));
        }

        return (name[..slash], name[(slash + 1)..]);
    }

    /// <summary>Checks a work pool name: 1-40 lowercase ASCII letters, digits and '-', starting with a letter or digit.</summary>
    /// <param name="name">The pool name.</param>
    /// <exception cref="ArgumentException">The name is malformed.</exception>
    public static void ValidatePoolName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > MaxPoolNameLength || name[0] == '-' || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            throw new ArgumentException(
                $"'{Shorten(name)}' is not a work pool name: 1-{MaxPoolNameLength} lowercase ASCII letters, digits and '-', starting with a letter or digit.",
                nameof(name));
        }
    }

    /// <summary>Checks a state key: 1-200 ASCII letters, digits, '-', '_', '.' and ':'.</summary>
    /// <param name="key">The key.</param>
    /// <exception cref="ArgumentException">The key is malformed.</exception>
    public static void ValidateStateKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (!IsName(key, MaxStateKeyLength, ".:"))
        {
            throw new ArgumentException($"'{Shorten(key)}' is not a state key: 1-{MaxStateKeyLength} ASCII letters, digits, '-', '_', '.' and ':'.", nameof(key));
        }
    }

    /// <summary>Checks a state entry: its key (<see cref="ValidateStateKey"/>) and its value (not null, at most 32 KiB of UTF-8).</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentException">The key or the value is unacceptable.</exception>
    public static void ValidateState(string key, string value)
    {
        ValidateStateKey(key);
        ArgumentNullException.ThrowIfNull(value);
        ValidateText(value, MaxTextBytes, nameof(value), "A state value");
    }

    /// <summary>
    /// Checks a deployment: its name; <see cref="DeploymentRecord.FlowName"/> equal to the name's flow part; a valid pool name;
    /// a known entrypoint kind and collision strategy; a positive concurrency limit (or none); schedules with distinct ids of
    /// 1-40 ASCII letters, digits, '-' and '_', each with exactly one of a cron expression and a positive interval; no null
    /// collection, tag or environment entry; and at most 32 KiB as JSON (<see cref="MaxRecordJsonBytes"/>).
    /// </summary>
    /// <param name="deployment">The deployment.</param>
    /// <exception cref="ArgumentException">The deployment breaks a rule.</exception>
    public static void ValidateDeployment(DeploymentRecord deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var (flow, _) = ValidateDeploymentName(deployment.Name);
        if (!string.Equals(deployment.FlowName, flow, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Deployment '{deployment.Name}' has FlowName '{Shorten(deployment.FlowName ?? "")}'; it must be the name's flow part '{flow}'.", nameof(deployment));
        }

        ValidatePoolName(deployment.Pool);
        var entrypoint = deployment.Entrypoint ?? throw new ArgumentException($"Deployment '{deployment.Name}' has no entrypoint.", nameof(deployment));
        if (entrypoint.Kind is not (DeploymentEntrypoint.FlowKind or DeploymentEntrypoint.ProcessKind))
        {
            throw new ArgumentException(
                $"Deployment '{deployment.Name}' has entrypoint kind '{entrypoint.Kind}'; use '{DeploymentEntrypoint.FlowKind}' or '{DeploymentEntrypoint.ProcessKind}'.", nameof(deployment));
        }

        if (entrypoint.Command?.Any(a => a is null) == true || entrypoint.Environment?.Any(e => e.Key is null || e.Value is null) == true)
        {
            throw new ArgumentException($"Deployment '{deployment.Name}' has a null command argument or environment value.", nameof(deployment));
        }

        if (!Enum.IsDefined(deployment.CollisionStrategy))
        {
            throw new ArgumentException($"Deployment '{deployment.Name}' has an unknown collision strategy {(int)deployment.CollisionStrategy}.", nameof(deployment));
        }

        ValidateLimit(deployment.ConcurrencyLimit, deployment.Name);
        if (deployment.Tags is null || deployment.Tags.Any(t => t.Value is null))
        {
            throw new ArgumentException($"Deployment '{deployment.Name}' has null tags or a tag with a null value.", nameof(deployment));
        }

        ValidateSchedules(deployment);
        ValidateSize(deployment, deployment.Name);
    }

    /// <summary>
    /// Checks a work pool: its name, a known type, a positive concurrency limit (or none), no null allowed command, and at
    /// most 32 KiB as JSON.
    /// </summary>
    /// <param name="pool">The pool.</param>
    /// <exception cref="ArgumentException">The pool breaks a rule.</exception>
    public static void ValidateWorkPool(WorkPoolRecord pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ValidatePoolName(pool.Name);
        if (pool.Type is not (WorkPoolRecord.InAppType or WorkPoolRecord.ProcessType))
        {
            throw new ArgumentException($"Work pool '{pool.Name}' has type '{pool.Type}'; use '{WorkPoolRecord.InAppType}' or '{WorkPoolRecord.ProcessType}'.", nameof(pool));
        }

        ValidateLimit(pool.ConcurrencyLimit, pool.Name);
        if (pool.AllowedCommands?.Any(c => string.IsNullOrEmpty(c)) == true)
        {
            throw new ArgumentException($"Work pool '{pool.Name}' has an empty allowed command.", nameof(pool));
        }

        ValidateSize(pool, pool.Name);
    }

    /// <summary>
    /// Checks a rejected run request: an id of 1-200 ASCII letters, digits, '-', '_' and '.'; a source of 1-200 characters;
    /// a non-empty reason; reason, field and body at most 32 KiB of UTF-8 each.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <exception cref="ArgumentException">The request breaks a rule.</exception>
    public static void ValidateRejectedRequest(RejectedRunRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.Id, nameof(request));
        if (!IsName(request.Id, MaxRejectedRequestIdLength, "."))
        {
            throw new ArgumentException(
                $"'{Shorten(request.Id)}' is not a rejected request id: 1-{MaxRejectedRequestIdLength} ASCII letters, digits, '-', '_' and '.'.", nameof(request));
        }

        ArgumentException.ThrowIfNullOrEmpty(request.Source, nameof(request));
        if (request.Source.Length > MaxRejectedRequestSourceLength)
        {
            throw new ArgumentException($"A rejected request's source has at most {MaxRejectedRequestSourceLength} characters; this one has {request.Source.Length}.", nameof(request));
        }

        ArgumentException.ThrowIfNullOrEmpty(request.Reason, nameof(request));
        ValidateText(request.Reason, MaxTextBytes, nameof(request), "A rejected request's reason");
        ValidateText(request.Field, MaxTextBytes, nameof(request), "A rejected request's field");
        ValidateText(request.Body, MaxTextBytes, nameof(request), "A rejected request's body");
    }

    /// <summary>Whether an id is a valid rejected request id: 1-200 ASCII letters, digits, '-', '_' and '.'.</summary>
    /// <param name="id">The id.</param>
    /// <returns>True when valid.</returns>
    public static bool IsValidRejectedRequestId(string? id) => id is not null && IsName(id, MaxRejectedRequestIdLength, ".");

    /// <summary>Checks the count of a rejected request listing: 1-1000.</summary>
    /// <param name="maxCount">The count.</param>
    /// <exception cref="ArgumentOutOfRangeException">Out of range.</exception>
    public static void ValidateMaxCount(int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxCount, MaxRejectedListCount);
    }

    /// <summary>A deployment as stores keep it: times normalized, collections copied into immutable ones.</summary>
    /// <param name="deployment">The deployment.</param>
    /// <returns>The normalized copy.</returns>
    public static DeploymentRecord Normalize(DeploymentRecord deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var entrypoint = deployment.Entrypoint;
        return deployment with
        {
            Entrypoint = entrypoint with
            {
                Command = entrypoint.Command is null ? null : ImmutableArray.CreateRange(entrypoint.Command),
                Environment = entrypoint.Environment?.ToFrozenDictionary(StringComparer.Ordinal),
            },
            Tags = deployment.Tags.ToFrozenDictionary(StringComparer.Ordinal),
            Schedules = ImmutableArray.CreateRange(deployment.Schedules.Select(s => s with { Anchor = StorageContract.NormalizeTime(s.Anchor) })),
            CreatedAt = StorageContract.NormalizeTime(deployment.CreatedAt),
            UpdatedAt = StorageContract.NormalizeTime(deployment.UpdatedAt),
        };
    }

    /// <summary>A work pool as stores keep it: times normalized, the allowed commands copied.</summary>
    /// <param name="pool">The pool.</param>
    /// <returns>The normalized copy.</returns>
    public static WorkPoolRecord Normalize(WorkPoolRecord pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return pool with
        {
            AllowedCommands = pool.AllowedCommands is null ? null : ImmutableArray.CreateRange(pool.AllowedCommands),
            CreatedAt = StorageContract.NormalizeTime(pool.CreatedAt),
            UpdatedAt = StorageContract.NormalizeTime(pool.UpdatedAt),
        };
    }

    /// <summary>A rejected request as stores keep it (time normalized).</summary>
    /// <param name="request">The request.</param>
    /// <returns>The normalized copy.</returns>
    public static RejectedRunRequest Normalize(RejectedRunRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request with { RejectedAt = StorageContract.NormalizeTime(request.RejectedAt) };
    }

    /// <summary>The size of a record as the contract measures it: the UTF-8 bytes of its JSON with <see cref="JsonSerializer"/>'s defaults.</summary>
    /// <typeparam name="T">The record type.</typeparam>
    /// <param name="record">The record.</param>
    /// <returns>The size in bytes.</returns>
    public static int MeasureJson<T>(T record) => JsonSerializer.SerializeToUtf8Bytes(record).Length;

    private static void ValidateSchedules(DeploymentRecord deployment)
    {
        if (deployment.Schedules is null)
        {
            throw new ArgumentException($"Deployment '{deployment.Name}' has null schedules.", nameof(deployment));
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var schedule in deployment.Schedules)
        {
            if (schedule is null || string.IsNullOrEmpty(schedule.Id) || schedule.Id.Contains('.', StringComparison.Ordinal) || !IsName(schedule.Id, MaxScheduleIdLength, string.Empty))
            {
                throw new ArgumentException(
                    $"Deployment '{deployment.Name}' has a schedule id '{Shorten(schedule?.Id ?? "")}'; use 1-{MaxScheduleIdLength} ASCII letters, digits, '-' and '_'.", nameof(deployment));
            }

            if (!ids.Add(schedule.Id))
            {
                throw new ArgumentException($"Deployment '{deployment.Name}' has two schedules with id '{schedule.Id}'.", nameof(deployment));
            }

            if (string.IsNullOrWhiteSpace(schedule.Cron) == (schedule.Interval is null) || schedule.Interval <= TimeSpan.Zero)
            {
                throw new ArgumentException(
                    $"Schedule '{schedule.Id}' of deployment '{deployment.Name}' needs exactly one of a cron expression and a positive interval.", nameof(deployment));
            }
        }
    }

    private static void ValidateLimit(int? limit, string owner)
    {
        if (limit is < 1)
        {
            throw new ArgumentException($"'{owner}' has concurrency limit {limit}; use at least 1, or none.", "record");
        }
    }

    private static void ValidateSize<T>(T record, string owner)
    {
        var bytes = MeasureJson(record);
        if (bytes > MaxRecordJsonBytes)
        {
            throw new ArgumentException($"'{owner}' is {bytes:N0} bytes as JSON; a record may have at most {MaxRecordJsonBytes:N0}.", "record");
        }
    }

    private static void ValidateText(string? text, int maxBytes, string paramName, string what)
    {
        if (text is not null && (long)text.Length * 3 > maxBytes && Encoding.UTF8.GetByteCount(text) is var bytes && bytes > maxBytes)
        {
            throw new ArgumentException($"{what} is {bytes:N0} UTF-8 bytes; at most {maxBytes:N0} are kept.", paramName);
        }
    }

    /// <summary>1-<paramref name="maxLength"/> ASCII letters, digits, '-', '_' and the <paramref name="extra"/> characters.</summary>
    private static bool IsName(ReadOnlySpan<char> value, int maxLength, string extra)
    {
        if (value.IsEmpty || value.Length > maxLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_') && !extra.Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private static string Shorten(string value) => value.Length <= 60 ? value : value[..60] + "…";
}
