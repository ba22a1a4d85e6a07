using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;
using Flow.Engine;
using Flow.Engine.Execution;
using Flow.ControlPlane.Scheduling;
using Flow.Engine.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flow.ControlPlane;

/// <summary>
/// Deployments and work pools: validation, create/update (idempotent apply), pause/resume, delete, triggering runs and
/// previewing schedules. Hosts (the HTTP API, the run-request queue, deployments files, the CLI) all go through it, so
/// every path validates the same way and nothing is half-written: a request is checked completely before anything is stored.
/// </summary>
public sealed partial class DeploymentService
{
    private const int MaxTags = 50;
    private const string IntervalTooLong = "must be at most 3650 days (ten years)";
    private static readonly TimeSpan MaxInterval = TimeSpan.FromDays(3650);
    private readonly IControlStore _store;
    private readonly FlowEngine _engine;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the service.</summary>
    /// <param name="store">The control-plane store.</param>
    /// <param name="engine">The engine (registry, runs).</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">The logger.</param>
    public DeploymentService(IControlStore store, FlowEngine engine, TimeProvider? timeProvider = null, ILogger<DeploymentService>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(engine);
        _store = store;
        _engine = engine;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The control-plane store.</summary>
    public IControlStore Store => _store;

    /// <summary>The engine.</summary>
    public FlowEngine Engine => _engine;

    // ------------------------------------------------------------------ deployments

    /// <summary>Validates a deployment and creates or updates it. Applying the same spec again changes nothing (not even its version).</summary>
    /// <param name="spec">The deployment as written.</param>
    /// <param name="source">Where it came from (<c>api</c>, <c>file:deployments.yaml</c>).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>What happened.</returns>
    /// <exception cref="InvalidRequestException">The spec is invalid (every offending field is named).</exception>
    public async Task<ApplyResult> ApplyAsync(DeploymentSpec spec, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        for (var attempt = 0; ; attempt++)
        {
            var name = spec.Flow is { } f && spec.Name is { } n ? ControlNames.Deployment(f, n) : null;
            var existing = name is not null && ControlNames.IsValidNamePart(spec.Flow) && ControlNames.IsValidNamePart(spec.Name)
                ? await _store.GetDeploymentAsync(name, cancellationToken).ConfigureAwait(false)
                : null;
            var pools = await _store.ListWorkPoolsAsync(cancellationToken).ConfigureAwait(false);
            var now = StorageContract.NormalizeTime(_time.GetUtcNow());
            var record = Build(spec, source, existing?.Record, pools.Select(p => p.Record).ToList(), now);
            if (existing is not null && SameDefinition(existing.Record, record))
            {
                return new ApplyResult(record.Name, "unchanged", existing.Record);
            }

            try
            {
                var stored = await _store.PutDeploymentAsync(record, existing?.Version ?? IControlStore.MustNotExist, cancellationToken).ConfigureAwait(false);
                LogDeploymentSaved(_logger, record.Name, existing is null ? "created" : "updated", source);
                return new ApplyResult(record.Name, existing is null ? "created" : "updated", stored.Record);
            }
            catch (ConcurrencyException) when (attempt < 5)
            {
                // changed meanwhile: validate against the fresh state and try again
            }
        }
    }

    /// <summary>Reads a deployment.</summary>
    /// <param name="name">The full name.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The deployment.</returns>
    /// <exception cref="ResourceNotFoundException">There is none.</exception>
    public async Task<DeploymentRecord> GetAsync(string name, CancellationToken cancellationToken) =>
        (await GetVersionedAsync(name, cancellationToken).ConfigureAwait(false)).Record;

    /// <summary>Lists deployments, by name.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The deployments.</returns>
    public async Task<IReadOnlyList<DeploymentRecord>> ListAsync(CancellationToken cancellationToken) =>
        [.. (await _store.ListDeploymentsAsync(cancellationToken).ConfigureAwait(false)).Select(d => d.Record)];

    /// <summary>Deletes a deployment. Its runs stay; its scheduled runs that have not started are cancelled when they come due.</summary>
    /// <param name="name">The full name.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    /// <exception cref="ResourceNotFoundException">There is none.</exception>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        ValidateDeploymentName(name);
        if (!await _store.DeleteDeploymentAsync(name, cancellationToken).ConfigureAwait(false))
        {
            throw new ResourceNotFoundException($"Deployment '{name}' does not exist.");
        }

        LogDeploymentSaved(_logger, name, "deleted", "api");
    }

    /// <summary>Pauses or resumes a deployment: a paused deployment's schedules create no runs, and scheduled runs that come due while it is paused are cancelled.</summary>
    /// <param name="name">The full name.</param>
    /// <param name="paused">True to pause.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The deployment.</returns>
    public async Task<DeploymentRecord> SetPausedAsync(string name, bool paused, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var current = await GetVersionedAsync(name, cancellationToken).ConfigureAwait(false);
            if (current.Record.Paused == paused)
            {
                return current.Record;
            }

            try
            {
                var next = current.Record with { Paused = paused, UpdatedAt = StorageContract.NormalizeTime(_time.GetUtcNow()) };
                var stored = await _store.PutDeploymentAsync(next, current.Version, cancellationToken).ConfigureAwait(false);
                LogDeploymentSaved(_logger, name, paused ? "paused" : "resumed", "api");
                return stored.Record;
            }
            catch (ConcurrencyException) when (attempt < 5)
            {
            }
        }
    }

    /// <summary>Starts a run of a deployment.</summary>
    /// <param name="name">The full deployment name.</param>
    /// <param name="request">Parameters, idempotency key, time, tags.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The run and whether this call created it.</returns>
    /// <exception cref="ResourceNotFoundException">The deployment does not exist.</exception>
    /// <exception cref="ResourceConflictException">The deployment is paused, or its in-app flow is not registered in this app.</exception>
    /// <exception cref="InvalidRequestException">The request is invalid (parameters that do not fit the flow, a bad key).</exception>
    public async Task<TriggerResult> TriggerAsync(string name, TriggerRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var deployment = await GetAsync(name, cancellationToken).ConfigureAwait(false);
        var errors = new ErrorList();
        if (request.IdempotencyKey is { } key && (key.Length is 0 or > 200 || key.Any(char.IsControl)))
        {
            errors.Add("idempotencyKey", "must be 1-200 characters without control characters");
        }

        var parameters = MergeObjects(errors, "parameters", deployment.Parameters, request.Parameters);
        var tags = MergeTags(errors, deployment.Tags, request.Tags);
        errors.ThrowIfAny();
        if (deployment.Paused)
        {
            LogTriggerRefused(_logger, name, "the deployment is paused");
            throw new ResourceConflictException($"Deployment '{name}' is paused; resume it to trigger runs.");
        }

        var runId = request.IdempotencyKey is { } k ? ControlNames.KeyedRunId(deployment.Name, k) : null;
        return await StartAsync(deployment, parameters, runId, request.ScheduledTime, tags, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts a run of a deployment with parameters already merged (the scheduler's path).</summary>
    internal async Task<TriggerResult> StartAsync(DeploymentRecord deployment, string? parameters, string? runId, DateTimeOffset? scheduledAt, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        var options = new StartRunOptions
        {
            RunId = runId,
            Pool = deployment.Pool,
            Deployment = deployment.Name,
            ScheduledAt = scheduledAt,
            Tags = tags,
        };
        try
        {
            // A process deployment's flow is not registered here: its run is a record for a process worker to start.
            var (run, created) = deployment.Entrypoint.Kind == DeploymentEntrypoint.ProcessKind
                ? await _engine.StartProcessRunAsync(deployment.FlowName, parameters, options, cancellationToken).ConfigureAwait(false)
                : await _engine.StartOrGetRunAsync(deployment.FlowName, parameters, options, cancellationToken).ConfigureAwait(false);
            return new TriggerResult(run, created);
        }
        catch (FlowParameterException e)
        {
            throw ParameterErrors("parameters", e);
        }
        catch (FlowNotFoundException e)
        {
            LogTriggerRefused(_logger, deployment.Name, e.Message);
            throw new ResourceConflictException($"Deployment '{deployment.Name}': {e.Message}");
        }
    }

    /// <summary>The next occurrences of a deployment's active schedules, merged in time order.</summary>
    /// <param name="name">The full deployment name.</param>
    /// <param name="count">How many, 1-1000.</param>
    /// <param name="from">Occurrences strictly after this instant; now when null.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>(schedule id, occurrence with its UTC offset in the schedule's zone).</returns>
    public async Task<IReadOnlyList<(string ScheduleId, DateTimeOffset Time)>> PreviewAsync(string name, int count, DateTimeOffset? from, CancellationToken cancellationToken)
    {
        if (count is < 1 or > 1000)
        {
            throw new InvalidRequestException("count", "must be 1-1000");
        }

        var deployment = await GetAsync(name, cancellationToken).ConfigureAwait(false);
        var start = from ?? _time.GetUtcNow();
        var all = new List<(string, DateTimeOffset)>();
        foreach (var schedule in deployment.Schedules.Where(s => s.Active))
        {
            var rule = ScheduleRules.Build(schedule);
            all.AddRange(rule.GetOccurrences(start, start.AddYears(5), count).Select(t => (schedule.Id, t)));
        }

        return [.. all.OrderBy(o => o.Item2.UtcTicks).ThenBy(o => o.Item1, StringComparer.Ordinal).Take(count)];
    }

    // ------------------------------------------------------------------ work pools

    /// <summary>Creates the <c>default</c> in-app pool if missing.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    public async Task EnsureDefaultPoolAsync(CancellationToken cancellationToken)
    {
        if (await _store.GetWorkPoolAsync(ControlNames.DefaultPool, cancellationToken).ConfigureAwait(false) is not null)
        {
            return;
        }

        var now = StorageContract.NormalizeTime(_time.GetUtcNow());
        try
        {
            await _store.PutWorkPoolAsync(new WorkPoolRecord { Name = ControlNames.DefaultPool, Description = "The in-app pool: this Flow app runs the flows.", CreatedAt = now, UpdatedAt = now }, IControlStore.MustNotExist, cancellationToken).ConfigureAwait(false);
        }
        catch (ConcurrencyException)
        {
            // another instance created it
        }
    }

    /// <summary>Creates or updates a work pool. Its type cannot change once created.</summary>
    /// <param name="name">The pool name.</param>
    /// <param name="spec">The pool as written.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The pool and whether it was created.</returns>
    public async Task<(WorkPoolRecord Pool, bool Created)> PutPoolAsync(string name, WorkPoolSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var type = ValidatePool(name, spec);
        for (var attempt = 0; ; attempt++)
        {
            var existing = await _store.GetWorkPoolAsync(name, cancellationToken).ConfigureAwait(false);
            if (existing is not null && existing.Record.Type != type)
            {
                throw new InvalidRequestException("type", $"pool '{name}' is a {existing.Record.Type} pool; a pool's type cannot change");
            }

            var now = StorageContract.NormalizeTime(_time.GetUtcNow());
            var record = new WorkPoolRecord
            {
                Name = name,
                Type = type,
                Description = spec.Description,
                ConcurrencyLimit = spec.ConcurrencyLimit,
                Paused = spec.Paused ?? existing?.Record.Paused ?? false,
                AllowedCommands = spec.AllowedCommands ?? existing?.Record.AllowedCommands,
                CreatedAt = existing?.Record.CreatedAt ?? now,
                UpdatedAt = now,
            };
            try
            {
                var stored = await _store.PutWorkPoolAsync(record, existing?.Version ?? IControlStore.MustNotExist, cancellationToken).ConfigureAwait(false);
                return (stored.Record, existing is null);
            }
            catch (ConcurrencyException) when (attempt < 5)
            {
            }
        }
    }

    /// <summary>
    /// Validates work pools and deployments together, as they would be after applying them (each deployment against the pools
    /// as they will be), without writing anything: a deployments file is applied only when all of it is valid.
    /// </summary>
    /// <param name="pools">The pools to create or update.</param>
    /// <param name="deployments">The deployments to create or update.</param>
    /// <param name="source">Where they came from.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    /// <exception cref="InvalidRequestException">Something is invalid; every offending field is named, prefixed <c>workPools[i].</c> or <c>deployments[i].</c>.</exception>
    public async Task ValidateAllAsync(IReadOnlyList<(string Name, WorkPoolSpec Spec)> pools, IReadOnlyList<DeploymentSpec?> deployments, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pools);
        ArgumentNullException.ThrowIfNull(deployments);
        var errors = new ErrorList();
        void AddAll(string prefix, InvalidRequestException e)
        {
            foreach (var (field, messages) in e.Errors)
            {
                foreach (var message in messages)
                {
                    errors.Add(prefix + "." + field, message);
                }
            }
        }

        var now = StorageContract.NormalizeTime(_time.GetUtcNow());
        var prospective = (await _store.ListWorkPoolsAsync(cancellationToken).ConfigureAwait(false)).Select(p => p.Record).ToDictionary(p => p.Name, StringComparer.Ordinal);
        for (var i = 0; i < pools.Count; i++)
        {
            var (name, spec) = pools[i];
            try
            {
                var type = ValidatePool(name, spec);
                if (prospective.TryGetValue(name, out var existing) && existing.Type != type)
                {
                    errors.Add($"workPools[{i}].type", $"pool '{name}' is a {existing.Type} pool; a pool's type cannot change");
                    continue;
                }

                prospective[name] = new WorkPoolRecord { Name = name, Type = type, AllowedCommands = spec.AllowedCommands, ConcurrencyLimit = spec.ConcurrencyLimit, CreatedAt = now, UpdatedAt = now };
            }
            catch (InvalidRequestException e)
            {
                AddAll($"workPools[{i}]", e);
            }
        }

        var poolList = prospective.Values.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < deployments.Count; i++)
        {
            if (deployments[i] is not { } spec)
            {
                errors.Add($"deployments[{i}]", "must be a deployment, not null");
                continue;
            }

            if (spec is { Flow: { } f, Name: { } n } && !names.Add(f + "/" + n))
            {
                errors.Add($"deployments[{i}].name", $"'{f}/{n}' appears twice in the file");
                continue;
            }

            try
            {
                var existing = ControlNames.IsValidNamePart(spec.Flow) && ControlNames.IsValidNamePart(spec.Name)
                    ? await _store.GetDeploymentAsync(ControlNames.Deployment(spec.Flow!, spec.Name!), cancellationToken).ConfigureAwait(false)
                    : null;
                Build(spec, source, existing?.Record, poolList, now);
            }
            catch (InvalidRequestException e)
            {
                AddAll($"deployments[{i}]", e);
            }
        }

        errors.ThrowIfAny();
    }

    /// <summary>Checks a pool's name and spec (not its type against a stored pool); returns its type.</summary>
    private static string ValidatePool(string name, WorkPoolSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new ErrorList();
        if (!ControlNames.IsValidPoolName(name))
        {
            errors.Add("name", "must be 1-40 lowercase letters, digits and '-', starting with a letter or digit");
        }

        var type = spec.Type ?? WorkPoolRecord.InAppType;
        if (type is not WorkPoolRecord.InAppType and not WorkPoolRecord.ProcessType)
        {
            errors.Add("type", $"must be '{WorkPoolRecord.InAppType}' or '{WorkPoolRecord.ProcessType}', not '{type}'");
        }

        if (spec.ConcurrencyLimit is < 1 or > 10_000)
        {
            errors.Add("concurrencyLimit", "must be 1-10000, or null for no limit");
        }

        if (spec.Description is { Length: > 2000 })
        {
            errors.Add("description", "must be at most 2000 characters");
        }

        if (spec.AllowedCommands is { } allowed && allowed.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add("allowedCommands", "must not contain empty entries");
        }

        errors.ThrowIfAny();
        return type;
    }

    /// <summary>Reads a work pool.</summary>
    /// <param name="name">The name.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The pool.</returns>
    /// <exception cref="ResourceNotFoundException">There is none.</exception>
    public async Task<WorkPoolRecord> GetPoolAsync(string name, CancellationToken cancellationToken)
    {
        ValidatePoolName(name);
        return (await _store.GetWorkPoolAsync(name, cancellationToken).ConfigureAwait(false))?.Record
            ?? throw new ResourceNotFoundException($"Work pool '{name}' does not exist.");
    }

    /// <summary>Pauses or resumes a work pool: a paused pool's runs wait in its queue.</summary>
    /// <param name="name">The name.</param>
    /// <param name="paused">True to pause.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The pool.</returns>
    public async Task<WorkPoolRecord> SetPoolPausedAsync(string name, bool paused, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            ValidatePoolName(name);
            var current = await _store.GetWorkPoolAsync(name, cancellationToken).ConfigureAwait(false)
                ?? throw new ResourceNotFoundException($"Work pool '{name}' does not exist.");
            if (current.Record.Paused == paused)
            {
                return current.Record;
            }

            try
            {
                return (await _store.PutWorkPoolAsync(current.Record with { Paused = paused, UpdatedAt = StorageContract.NormalizeTime(_time.GetUtcNow()) }, current.Version, cancellationToken).ConfigureAwait(false)).Record;
            }
            catch (ConcurrencyException) when (attempt < 5)
            {
            }
        }
    }

    // ------------------------------------------------------------------ validation

    private async Task<Versioned<DeploymentRecord>> GetVersionedAsync(string name, CancellationToken cancellationToken)
    {
        ValidateDeploymentName(name);
        return await _store.GetDeploymentAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new ResourceNotFoundException($"Deployment '{name}' does not exist.");
    }

    private static void ValidatePoolName(string name)
    {
        if (!ControlNames.IsValidPoolName(name))
        {
            throw new InvalidRequestException("name", "must be 1-40 lowercase letters, digits and '-', starting with a letter or digit");
        }
    }

    private static void ValidateDeploymentName(string name)
    {
        var slash = name?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (name is null || slash < 0 || !ControlNames.IsValidNamePart(name[..slash]) || !ControlNames.IsValidNamePart(name[(slash + 1)..]))
        {
            throw new InvalidRequestException("name", $"'{name}' is not a deployment name: expected flow-name/deployment-name, each 1-100 letters, digits, '-', '_' and '.'");
        }
    }

    private DeploymentRecord Build(DeploymentSpec spec, string source, DeploymentRecord? existing, IReadOnlyList<WorkPoolRecord> pools, DateTimeOffset now)
    {
        var errors = new ErrorList();
        if (!ControlNames.IsValidNamePart(spec.Flow))
        {
            errors.Add("flow", spec.Flow is null ? "is required" : "must be 1-100 letters, digits, '-', '_' and '.'");
        }

        if (!ControlNames.IsValidNamePart(spec.Name))
        {
            errors.Add("name", spec.Name is null ? "is required" : "must be 1-100 letters, digits, '-', '_' and '.'");
        }

        var entry = spec.Entrypoint ?? new EntrypointSpec();
        var kind = entry.Kind ?? DeploymentEntrypoint.FlowKind;
        Type? inputType = null;
        if (kind == DeploymentEntrypoint.FlowKind)
        {
            if (entry.Command is not null || entry.WorkingDirectory is not null || entry.Environment is not null || entry.Retries is not null || entry.RetryDelaySeconds is not null || entry.TimeoutSeconds is not null)
            {
                errors.Add("entrypoint", "command, workingDirectory, environment, retries, retryDelaySeconds and timeoutSeconds belong to a process entrypoint (kind: process)");
            }

            if (spec.Flow is { } flowName && ControlNames.IsValidNamePart(flowName))
            {
                if (_engine.Registry.TryGetFlow(flowName, out var flow))
                {
                    inputType = flow.InputType;
                }
                else
                {
                    errors.Add("flow", $"no flow named '{flowName}' is registered in this app (registered: {string.Join(", ", _engine.Registry.Flows.Select(f => f.Name).Order(StringComparer.Ordinal))})");
                }
            }
        }
        else if (kind == DeploymentEntrypoint.ProcessKind)
        {
            if (entry.Command is not { Count: > 0 } || string.IsNullOrWhiteSpace(entry.Command[0]))
            {
                errors.Add("entrypoint.command", "a process entrypoint needs a command: an argv array whose first element is the executable");
            }
            else if (entry.Command.Any(a => a is null || a.Contains('\0', StringComparison.Ordinal)))
            {
                errors.Add("entrypoint.command", "arguments must not be null or contain NUL characters");
            }

            if (entry.Environment is { } env && env.Keys.Any(k => k.Length == 0 || k.Contains('=', StringComparison.Ordinal) || k.Contains('\0', StringComparison.Ordinal)))
            {
                errors.Add("entrypoint.environment", "variable names must be non-empty and contain no '=' or NUL");
            }

            foreach (var variable in entry.Environment?.Keys ?? Enumerable.Empty<string>())
            {
                if (ProcessEnvironmentPolicy.RefusalForDeployment(variable) is { } refused)
                {
                    errors.Add("entrypoint.environment." + variable, refused);
                }
            }

            if (entry.Retries is < 0 or > 100)
            {
                errors.Add("entrypoint.retries", "must be 0-100");
            }

            if (entry.RetryDelaySeconds is < 0 or > 86_400)
            {
                errors.Add("entrypoint.retryDelaySeconds", "must be 0-86400");
            }

            if (entry.TimeoutSeconds is < 1 or > 604_800)
            {
                errors.Add("entrypoint.timeoutSeconds", "must be 1-604800, or null for no limit");
            }
        }
        else
        {
            errors.Add("entrypoint.kind", $"must be '{DeploymentEntrypoint.FlowKind}' or '{DeploymentEntrypoint.ProcessKind}', not '{kind}'");
        }

        var poolName = spec.Pool ?? ControlNames.DefaultPool;
        var pool = pools.FirstOrDefault(p => p.Name == poolName);
        if (pool is null)
        {
            errors.Add("pool", $"work pool '{poolName}' does not exist (pools: {string.Join(", ", pools.Select(p => p.Name))})");
        }
        else if (kind == DeploymentEntrypoint.FlowKind && pool.Type != WorkPoolRecord.InAppType)
        {
            errors.Add("pool", $"an in-app flow needs an in-app pool; '{poolName}' is a {pool.Type} pool");
        }
        else if (kind == DeploymentEntrypoint.ProcessKind && pool.Type != WorkPoolRecord.ProcessType)
        {
            errors.Add("pool", $"a process entrypoint needs a process pool; '{poolName}' is a {pool.Type} pool");
        }
        else if (kind == DeploymentEntrypoint.ProcessKind && pool.AllowedCommands is { } allowed && entry.Command is [var exe, ..] && !allowed.Contains(exe, StringComparer.Ordinal))
        {
            errors.Add("entrypoint.command", $"'{exe}' is not among the executables pool '{poolName}' allows ({string.Join(", ", allowed)})");
        }

        var parameters = MergeObjects(errors, "parameters", null, spec.Parameters);
        var tags = MergeTags(errors, FlowRunRecord.EmptyTags, spec.Tags);
        if (spec.ConcurrencyLimit is < 1 or > 10_000)
        {
            errors.Add("concurrencyLimit", "must be 1-10000, or null for no limit");
        }

        var collision = spec.CollisionStrategy switch
        {
            null or "enqueue" => CollisionStrategy.Enqueue,
            "cancel-new" => CollisionStrategy.CancelNew,
            var other => Invalid(errors, "collisionStrategy", $"must be 'enqueue' or 'cancel-new', not '{other}'"),
        };
        if (spec.Description is { Length: > 2000 })
        {
            errors.Add("description", "must be at most 2000 characters");
        }

        if (spec.Version is { Length: > 200 })
        {
            errors.Add("version", "must be at most 200 characters");
        }

        var schedules = new List<DeploymentSchedule>();
        var specs = spec.Schedules ?? [];
        if (specs.Count > 20)
        {
            errors.Add("schedules", "at most 20 schedules per deployment");
        }

        for (var i = 0; i < specs.Count; i++)
        {
            var schedule = specs[i] is { } scheduleSpec ? BuildSchedule(errors, $"schedules[{i}]", scheduleSpec, i, now) : Invalid(errors, $"schedules[{i}]", "must be a schedule, not null", (DeploymentSchedule?)null);
            if (schedule is null)
            {
                continue;
            }

            if (schedules.Any(s => s.Id == schedule.Id))
            {
                errors.Add($"schedules[{i}].id", $"'{schedule.Id}' is used by another schedule of this deployment");
            }

            // The parameters each schedule's runs will get must fit the flow.
            var merged = MergeObjects(errors, $"schedules[{i}].parameters", parameters, specs[i].Parameters);
            if (inputType is not null && !errors.Any)
            {
                CheckParameters(errors, $"schedules[{i}].parameters", merged, inputType);
            }

            schedules.Add(schedule with { Parameters = specs[i].Parameters is { ValueKind: JsonValueKind.Object } p ? p.GetRawText() : null });
        }

        // Parameters given must fit the flow, required fields included (parameters.name: required). A deployment without
        // parameters and schedules may leave required fields to each trigger, which must then give them.
        if (inputType is not null && !errors.Any && specs.Count == 0 && parameters is not null)
        {
            CheckParameters(errors, "parameters", parameters, inputType);
        }

        errors.ThrowIfAny();
        return new DeploymentRecord
        {
            Name = ControlNames.Deployment(spec.Flow!, spec.Name!),
            FlowName = spec.Flow!,
            Entrypoint = new DeploymentEntrypoint
            {
                Kind = kind,
                Command = entry.Command,
                WorkingDirectory = entry.WorkingDirectory,
                Environment = entry.Environment,
                Retries = entry.Retries ?? 0,
                RetryDelaySeconds = entry.RetryDelaySeconds,
                TimeoutSeconds = entry.TimeoutSeconds,
            },
            Pool = poolName,
            Parameters = parameters,
            Tags = tags,
            Version = spec.Version,
            Description = spec.Description,
            Paused = spec.Paused ?? existing?.Paused ?? false,
            ConcurrencyLimit = spec.ConcurrencyLimit,
            CollisionStrategy = collision,
            Schedules = schedules,
            Source = source,
            CreatedAt = existing?.CreatedAt ?? now,
            UpdatedAt = now,
        };
    }

    private static CollisionStrategy Invalid(ErrorList errors, string field, string message) => Invalid(errors, field, message, CollisionStrategy.Enqueue);

    private static T Invalid<T>(ErrorList errors, string field, string message, T fallback)
    {
        errors.Add(field, message);
        return fallback;
    }

    private static DeploymentSchedule? BuildSchedule(ErrorList errors, string path, ScheduleSpec spec, int index, DateTimeOffset now)
    {
        var id = spec.Id ?? "s" + index.ToString(CultureInfo.InvariantCulture);
        var ok = true;
        if (!ControlNames.IsValidScheduleId(id))
        {
            errors.Add(path + ".id", "must be 1-40 letters, digits, '-' and '_'");
            ok = false;
        }

        if ((spec.Cron is null) == (spec.Interval is null))
        {
            errors.Add(path, "give exactly one of cron and interval");
            return null;
        }

        TimeSpan? interval = null;
        if (spec.Interval is { } value)
        {
            interval = ParseInterval(value, out var error);
            if (error is not null)
            {
                errors.Add(path + ".interval", error);
                ok = false;
            }
        }

        if (spec.Cron is not null && spec.Anchor is not null)
        {
            errors.Add(path + ".anchor", "an anchor belongs to an interval schedule");
            ok = false;
        }

        if (spec.Parameters is { } p && p.ValueKind is not JsonValueKind.Object and not JsonValueKind.Null)
        {
            errors.Add(path + ".parameters", $"must be a JSON object, not {p.ValueKind}");
            ok = false;
        }

        var schedule = new DeploymentSchedule
        {
            Id = id,
            Cron = spec.Cron,
            TimeZone = spec.Timezone,
            Interval = interval,
            Anchor = spec.Anchor is { } anchor ? StorageContract.NormalizeTime(anchor) : null,
            Active = spec.Active ?? true,
        };
        if (spec.Timezone is { } zone && !TimeZones.TryFind(zone, out _, out var zoneError))
        {
            errors.Add(path + ".timezone", zoneError ?? $"unknown time zone '{zone}'");
            return null;
        }

        if (!ok)
        {
            return null;
        }

        try
        {
            // A rule that never fires (0 0 30 2 *) is a mistake, not a schedule: refuse it, naming the field.
            var rule = ScheduleRules.Build(schedule);
            if (spec.Cron is not null && rule.GetNextOccurrence(now) is null)
            {
                errors.Add(path + ".cron", $"'{spec.Cron}' never fires: it has no occurrence in the next {(int)(ScheduleRule.NextOccurrenceHorizon.TotalDays / 365)} years");
                return null;
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            errors.Add(path + (spec.Cron is not null ? ".cron" : ".interval"), e.Message);
            return null;
        }

        return schedule;
    }

    private static TimeSpan? ParseInterval(JsonElement value, out string? error)
    {
        error = null;
        TimeSpan? span = null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var seconds) && double.IsFinite(seconds))
        {
            if (seconds > MaxInterval.TotalSeconds)
            {
                error = IntervalTooLong;
                return null;
            }

            span = TimeSpan.FromSeconds(seconds);
        }
        else if (value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text)
        {
            if (text.StartsWith('P'))
            {
                try
                {
                    span = XmlConvert.ToTimeSpan(text);
                }
                catch (FormatException)
                {
                }
                catch (OverflowException)
                {
                    error = IntervalTooLong;
                    return null;
                }
            }
            else if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var parsed))
            {
                span = parsed;
            }
        }

        if (span is null)
        {
            error = "must be seconds (a number) or a duration such as \"PT15M\" or \"00:15:00\"";
        }
        else if (span < TimeSpan.FromSeconds(1))
        {
            error = "must be at least 1 second";
            span = null;
        }
        else if (span > MaxInterval)
        {
            error = IntervalTooLong;
            span = null;
        }

        return span;
    }

    private void CheckParameters(ErrorList errors, string path, string? parameters, Type inputType)
    {
        try
        {
            _engine.CheckParameters(parameters, inputType);
        }
        catch (FlowParameterException e)
        {
            foreach (var (field, messages) in ParameterErrors(path, e).Errors)
            {
                foreach (var message in messages)
                {
                    errors.Add(field, message);
                }
            }
        }
    }

    internal static InvalidRequestException ParameterErrors(string path, FlowParameterException e)
    {
        var errors = new ErrorList();
        foreach (var error in e.Errors.Count > 0 ? e.Errors : [e.Message])
        {
            var colon = error.IndexOf(": ", StringComparison.Ordinal);
            var field = colon > 0 ? error[..colon] : "(root)";
            errors.Add(field == "(root)" ? path : path + "." + field, colon > 0 ? error[(colon + 2)..] : error);
        }

        return new InvalidRequestException(errors.ToDictionary());
    }

    internal static string? MergeObjects(ErrorList errors, string path, string? baseObject, JsonElement? overlay)
    {
        if (overlay is not { } value || value.ValueKind == JsonValueKind.Null || value.ValueKind == JsonValueKind.Undefined)
        {
            return baseObject;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(path, $"must be a JSON object, not {value.ValueKind}");
            return baseObject;
        }

        var merged = baseObject is null ? new JsonObject() : JsonNode.Parse(baseObject)!.AsObject();
        foreach (var property in value.EnumerateObject())
        {
            merged[property.Name] = JsonNode.Parse(property.Value.GetRawText());
        }

        return merged.ToJsonString();
    }

    private static IReadOnlyDictionary<string, string> MergeTags(ErrorList errors, IReadOnlyDictionary<string, string> baseTags, IReadOnlyDictionary<string, string>? overlay)
    {
        var tags = new Dictionary<string, string>(baseTags, StringComparer.Ordinal);
        foreach (var (k, v) in overlay ?? new Dictionary<string, string>())
        {
            if (k.Length is 0 or > 100 || k.Any(char.IsControl) || v is null || v.Length > 1000 || v.Any(char.IsControl))
            {
                errors.Add("tags", $"tag '{k}': keys must be 1-100 and values at most 1000 characters, without control characters");
                continue;
            }

            tags[k] = v;
        }

        if (tags.Count > MaxTags)
        {
            errors.Add("tags", $"at most {MaxTags} tags");
        }

        return tags;
    }

    private static bool SameDefinition(DeploymentRecord a, DeploymentRecord b)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        string Canonical(DeploymentRecord d) => JsonSerializer.Serialize(d with { CreatedAt = default, UpdatedAt = default, Source = null, Tags = new SortedDictionary<string, string>(d.Tags.ToDictionary(), StringComparer.Ordinal) }, options);
        return Canonical(a) == Canonical(b);
    }

    [LoggerMessage(600, LogLevel.Information, "Deployment {Deployment} {Outcome} (source {Source})")]
    private static partial void LogDeploymentSaved(ILogger logger, string deployment, string outcome, string source);

    [LoggerMessage(601, LogLevel.Information, "Run of deployment {Deployment} refused: {Reason}")]
    private static partial void LogTriggerRefused(ILogger logger, string deployment, string reason);
}
