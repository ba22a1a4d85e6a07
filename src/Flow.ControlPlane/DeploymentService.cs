using System.Text.Json;
using Flow.Engine;
using Flow.Engine.Execution;
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
    private readonly IControlStore _store;
    private readonly FlowEngine _engine;
    private readonly DeploymentValidator _validator;
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
        _validator = new DeploymentValidator(engine);
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
            var record = _validator.Build(spec, source, existing?.Record, pools.Select(p => p.Record).ToList(), now);
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
        DeploymentValidator.ValidateDeploymentName(name);
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

        var parameters = DeploymentValidator.MergeObjects(errors, "parameters", deployment.Parameters, request.Parameters);
        var tags = DeploymentValidator.MergeTags(errors, deployment.Tags, request.Tags);
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
            throw DeploymentValidator.ParameterErrors("parameters", e);
        }
        catch (FlowNotFoundException e)
        {
            LogTriggerRefused(_logger, deployment.Name, e.Message);
            throw new ResourceConflictException($"Deployment '{deployment.Name}': {e.Message}");
        }
    }

    /// <summary>When a deployment's active schedules next fire after now: the earliest occurrence, or null when it is paused or has no active schedule.</summary>
    /// <param name="deployment">The deployment.</param>
    /// <returns>The next occurrence with its UTC offset in the schedule's zone, or null.</returns>
    public DateTimeOffset? NextRunAt(DeploymentRecord deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        return !deployment.Paused && Upcoming(deployment, _time.GetUtcNow(), 1) is [var next] ? next.Time : null;
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
        return Upcoming(deployment, from ?? _time.GetUtcNow(), count);
    }

    /// <summary>The first <paramref name="count"/> occurrences after <paramref name="start"/> of a deployment's active schedules, merged in time order.</summary>
    private static List<(string ScheduleId, DateTimeOffset Time)> Upcoming(DeploymentRecord deployment, DateTimeOffset start, int count)
    {
        var all = new List<(string ScheduleId, DateTimeOffset Time)>();
        foreach (var schedule in deployment.Schedules.Where(s => s.Active))
        {
            var rule = ScheduleRules.Build(schedule);
            all.AddRange(rule.GetOccurrences(start, start.AddYears(5), count).Select(t => (schedule.Id, t)));
        }

        return [.. all.OrderBy(o => o.Time.UtcTicks).ThenBy(o => o.ScheduleId, StringComparer.Ordinal).Take(count)];
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
        var type = DeploymentValidator.ValidatePool(name, spec);
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
                var type = DeploymentValidator.ValidatePool(name, spec);
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
                _validator.Build(spec, source, existing?.Record, poolList, now);
            }
            catch (InvalidRequestException e)
            {
                AddAll($"deployments[{i}]", e);
            }
        }

        errors.ThrowIfAny();
    }

    /// <summary>Reads a work pool.</summary>
    /// <param name="name">The name.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The pool.</returns>
    /// <exception cref="ResourceNotFoundException">There is none.</exception>
    public async Task<WorkPoolRecord> GetPoolAsync(string name, CancellationToken cancellationToken)
    {
        DeploymentValidator.ValidatePoolName(name);
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
            DeploymentValidator.ValidatePoolName(name);
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

    private async Task<Versioned<DeploymentRecord>> GetVersionedAsync(string name, CancellationToken cancellationToken)
    {
        DeploymentValidator.ValidateDeploymentName(name);
        return await _store.GetDeploymentAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new ResourceNotFoundException($"Deployment '{name}' does not exist.");
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
