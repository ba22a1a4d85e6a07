using System.Text.Json;
using Flow.Sdk;
using Microsoft.Extensions.Logging;

namespace Flow.Engine.Execution;

// Flow-facing code: continuations must stay on the flow scheduler, so awaits here use ConfigureAwait(true) on purpose.

/// <summary>The flow context of one episode: every call becomes a numbered <see cref="Call"/> that replay matches to the journal.</summary>
internal sealed class EpisodeContext : FlowContext
{
    private readonly ReplayCore _episode;
    private readonly RunLogger _logger;
    private Random? _random;
    private int _guids;

    public EpisodeContext(ReplayCore episode, IServiceProvider services)
    {
        _episode = episode;
        Services = services;
        _logger = new RunLogger(episode, 0, () => _episode.IsReplaying);
    }

    /// <summary>The episode's service scope.</summary>
    public IServiceProvider Services { get; }

    public override string RunId => _episode.RunId;

    public override string FlowName => _episode.Run.FlowName;

    public override int Attempt => _episode.Run.Attempt;

    public override string? ParametersJson => _episode.Run.Parameters;

    public override IReadOnlyDictionary<string, string> Tags => _episode.Run.Tags;

    public override DateTimeOffset UtcNow => _episode.FlowNow;

    public override bool IsReplaying => _episode.IsReplaying;

    public override ILogger Logger => _logger;

    public override CancellationToken CancellationToken => _episode.RunCancellation;

    public override Random Random => _random ??= new Random(BitConverter.ToInt32(EngineCore.DeterministicGuid($"{RunId}/{Attempt}/random").ToByteArray(), 0));

    public override JsonSerializerOptions SerializerOptions => _episode.Json;

    public override Guid NewGuid() => EngineCore.DeterministicGuid($"{RunId}/{Attempt}/guid/{++_guids}");

    public override async Task<TResult> RunTaskAsync<TInput, TResult>(string name, TInput input, Func<TaskContext, TInput, Task<TResult>> body, TaskOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        FlowNames.Validate(name, "task");
        options ??= TaskOptions.Default;
        options.Validate();
        if (options.ExecutionMode == TaskExecutionMode.Distributed)
        {
            throw new ArgumentException($"Task '{name}' is an inline lambda and cannot run distributed; register it (AddTask) and call it with CallTaskAsync.");
        }

        var inputJson = _episode.Serialize(input, typeof(TInput));
        var core = _episode;
        var call = _episode.AddCall(id => new TaskCall(id, name, options, inputJson, async context =>
        {
            var result = await body(context, input).ConfigureAwait(false);
            return core.Serialize(result, typeof(TResult));
        }, null, distributed: false));
        var json = await call.Completion.Task.ConfigureAwait(true);
        return Read<TResult>(call, json);
    }

    public override async Task<TResult> CallTaskAsync<TResult>(string taskName, object? input, TaskOptions? options = null)
    {
        var core = _episode;
        var registry = core.Settings.Registry;
        if (!registry.TryGetTask(taskName, out var definition))
        {
            throw new ArgumentException($"No task named '{taskName}' is registered (registered: {string.Join(", ", registry.Tasks.Select(t => t.Name).Order(StringComparer.Ordinal))}).", nameof(taskName));
        }

        options ??= definition.Options;
        options.Validate();
        var inputJson = core.Serialize(input, input?.GetType() ?? definition.InputType);
        var distributed = options.ExecutionMode == TaskExecutionMode.Distributed;
        var call = _episode.AddCall(id => new TaskCall(id, taskName, options, inputJson, async context =>
        {
            var typedInput = core.Deserialize(inputJson, definition.InputType);
            var result = await definition.Invoke(context.Services, context, typedInput).ConfigureAwait(false);
            return core.Serialize(result, definition.OutputType);
        }, definition, distributed));
        var json = await call.Completion.Task.ConfigureAwait(true);
        return Read<TResult>(call, json);
    }

    public override async Task<TResult> RunSubflowAsync<TResult>(string flowName, object? input, SubflowOptions? options = null)
    {
        FlowNames.Validate(flowName, "flow");
        var inputJson = input is null ? "null" : _episode.Serialize(input, input.GetType());
        var call = _episode.AddCall(id => new SubflowCall(id, flowName, inputJson, options));
        var json = await call.Completion.Task.ConfigureAwait(true);
        return Read<TResult>(call, json);
    }

    public override Task SleepAsync(TimeSpan delay)
    {
        var call = _episode.AddCall(id => new TimerCall(id, "sleep", delay));
        return call.Completion.Task;
    }

    public override async Task<T> WaitForEventAsync<T>(string name, TimeSpan? timeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (timeout is { } t && t < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must not be negative.");
        }

        var call = _episode.AddCall(id => new EventWaitCall(id, name, timeout));
        var json = await call.Completion.Task.ConfigureAwait(true);
        return Read<T>(call, json);
    }

    private T Read<T>(Call call, string? json)
    {
        try
        {
            return _episode.Deserialize<T>(json);
        }
        catch (JsonException e)
        {
            throw new FlowException($"The recorded value of {call.Describe()} cannot be read as {typeof(T).Name}: {e.Message} The journal is corrupt, or the type changed in a way that breaks runs in flight.", e);
        }
    }

    protected override Task CreateArtifactAsync(string key, ArtifactKind kind, string data, string? description)
    {
        if (!_episode.IsReplaying)
        {
            _episode.AddArtifact(key, kind, data, description, 0, _episode.Settings.Time.GetUtcNow());
        }

        return Task.CompletedTask;
    }
}

/// <summary>The context of one inline (or distributed) task attempt.</summary>
internal sealed class EpisodeTaskContext : TaskContext
{
    private readonly ReplayCore? _episode;
    private readonly Action<string, ArtifactKind, string, string?>? _artifactSink;

    public EpisodeTaskContext(ReplayCore episode, IServiceProvider services, TaskCall call, int attempt, CancellationToken cancellationToken)
    {
        _episode = episode;
        RunId = episode.RunId;
        FlowName = episode.Run.FlowName;
        TaskName = call.Name;
        CallId = call.Id;
        Attempt = attempt;
        IdempotencyKey = $"{episode.RunId}:{episode.Run.Attempt}:{call.Id}";
        CancellationToken = cancellationToken;
        Logger = new RunLogger(episode, call.Id, () => false);
        TimeProvider = episode.Settings.Time;
        Services = services;
    }

    public EpisodeTaskContext(string runId, string flowName, string taskName, int runAttempt, int callId, int attempt, ILogger logger, TimeProvider time, IServiceProvider services, Action<string, ArtifactKind, string, string?> artifactSink, CancellationToken cancellationToken)
    {
        RunId = runId;
        FlowName = flowName;
        TaskName = taskName;
        CallId = callId;
        Attempt = attempt;
        IdempotencyKey = $"{runId}:{runAttempt}:{callId}";
        CancellationToken = cancellationToken;
        Logger = logger;
        TimeProvider = time;
        Services = services;
        _artifactSink = artifactSink;
    }

    public override string RunId { get; }

    public override string FlowName { get; }

    public override string TaskName { get; }

    public override int CallId { get; }

    public override int Attempt { get; }

    public override string IdempotencyKey { get; }

    public override CancellationToken CancellationToken { get; }

    public override ILogger Logger { get; }

    public override TimeProvider TimeProvider { get; }

    public override IServiceProvider Services { get; }

    public override void CreateArtifact(string key, ArtifactKind kind, string data, string? description = null)
    {
        if (_episode is not null)
        {
            _episode.AddArtifact(key, kind, data, description, CallId, TimeProvider.GetUtcNow());
        }
        else
        {
            _artifactSink!(key, kind, data, description);
        }
    }
}

/// <summary>A logger that writes the run's log lines (silent while replaying) and forwards to the host's logger.</summary>
internal sealed class RunLogger : ILogger
{
    private readonly ReplayCore _episode;
    private readonly int _callId;
    private readonly Func<bool> _replaying;

    public RunLogger(ReplayCore episode, int callId, Func<bool> replaying)
    {
        _episode = episode;
        _callId = callId;
        _replaying = replaying;
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => _episode.Settings.RunLogger.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (_replaying() || logLevel == LogLevel.None)
        {
            return;
        }

        var message = formatter(state, exception);
        if (exception is not null)
        {
            message += Environment.NewLine + exception;
        }

        _episode.AddLog(logLevel.ToString(), message, _callId, _episode.Settings.Time.GetUtcNow());
        using (_episode.Settings.RunLogger.BeginScope(new Dictionary<string, object> { ["RunId"] = _episode.RunId, ["CallId"] = _callId }))
        {
            _episode.Settings.RunLogger.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
