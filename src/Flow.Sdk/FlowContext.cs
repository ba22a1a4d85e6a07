using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Flow.Sdk;

/// <summary>The kinds of artifact a flow or task can create.</summary>
public enum ArtifactKind
{
    /// <summary>Markdown text.</summary>
    Markdown,

    /// <summary>A table of rows.</summary>
    Table,

    /// <summary>A link.</summary>
    Link,
}

/// <summary>
/// The flow's view of its run, and the only door to anything that is not deterministic.
/// </summary>
/// <remarks>
/// <para>Flow code is replayed: after a durable wait, a crash or a move to another machine, the engine
/// runs <c>RunAsync</c> again from the start and feeds it the recorded results of everything it already
/// did. For that to work the code must make the same calls in the same order every time. The rules:</para>
/// <list type="bullet">
/// <item>Do I/O (HTTP, databases, files) only inside tasks (<see cref="RunTaskAsync{TResult}(string, Func{TaskContext, Task{TResult}}, TaskOptions?)"/>); their results are recorded.</item>
/// <item>Take the time from <see cref="UtcNow"/>, GUIDs from <see cref="NewGuid"/>, random numbers from <see cref="Random"/>; never <c>DateTime.UtcNow</c>, <c>Guid.NewGuid()</c> or <c>Random.Shared</c>.</item>
/// <item>Wait with <see cref="SleepAsync"/> and <see cref="WaitForEventAsync{T}"/>; never <c>Task.Delay</c> or <c>Thread.Sleep</c>.</item>
/// <item>Await only tasks the context returns (and <c>Task.WhenAll</c>/<c>Task.WhenAny</c> of them); don't use <c>Task.Run</c>, <c>ConfigureAwait(false)</c> or threads.</item>
/// <item>Log with <see cref="Logger"/>: it is silent while replaying, so each line is written once.</item>
/// </list>
/// <para>Changing a flow's code while runs are in flight is safe when the calls they already made stay the
/// same; otherwise the run fails with a <see cref="NonDeterminismException"/> naming the expected and the
/// actual step. The replayer (Flow.Testing) checks a change against recorded journals.</para>
/// </remarks>
public abstract class FlowContext
{
    /// <summary>The run id.</summary>
    public abstract string RunId { get; }

    /// <summary>The flow name.</summary>
    public abstract string FlowName { get; }

    /// <summary>The flow-run attempt, from 1 (flow retries start new attempts).</summary>
    public abstract int Attempt { get; }

    /// <summary>The run's parameters as JSON (the same value the input was bound from).</summary>
    public abstract string? ParametersJson { get; }

    /// <summary>The run's tags.</summary>
    public abstract IReadOnlyDictionary<string, string> Tags { get; }

    /// <summary>
    /// The current time, replay-safe: the time the last recorded step happened (or the attempt's start).
    /// It moves forward with each task result, timer and event, and is the same on every replay.
    /// </summary>
    public abstract DateTimeOffset UtcNow { get; }

    /// <summary>True while the code is catching up with recorded history (nothing new happens then).</summary>
    public abstract bool IsReplaying { get; }

    /// <summary>A logger whose lines go to the run's logs and the host's log; silent while replaying.</summary>
    public abstract ILogger Logger { get; }

    /// <summary>Cancelled when cancellation of the run is requested (or its timeout passes).</summary>
    public abstract CancellationToken CancellationToken { get; }

    /// <summary>A random number generator seeded from the run, so it yields the same numbers on replay.</summary>
    public abstract Random Random { get; }

    /// <summary>A GUID that is the same on every replay (derived from the run and a counter).</summary>
    /// <returns>The GUID.</returns>
    public abstract Guid NewGuid();

    /// <summary>The JSON options used for parameters, inputs and results.</summary>
    public abstract JsonSerializerOptions SerializerOptions { get; }

    /// <summary>
    /// Runs an inline task with an input: the input is recorded (and hashed for caching), the result is
    /// recorded, and on replay the recorded result is returned without running the body again.
    /// </summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="name">The task name (shown in the run's task runs; part of the non-determinism check).</param>
    /// <param name="input">The input.</param>
    /// <param name="body">The task's code; it runs on the thread pool and may do I/O.</param>
    /// <param name="options">Retries, timeout, cache; null for <see cref="TaskOptions.Default"/>.</param>
    /// <returns>The result. A task that failed for good throws <see cref="FlowTaskFailedException"/>.</returns>
    public abstract Task<TResult> RunTaskAsync<TInput, TResult>(string name, TInput input, Func<TaskContext, TInput, Task<TResult>> body, TaskOptions? options = null);

    /// <summary>Runs an inline task without an input. See <see cref="RunTaskAsync{TInput, TResult}"/>.</summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="name">The task name.</param>
    /// <param name="body">The task's code.</param>
    /// <param name="options">The options.</param>
    /// <returns>The result.</returns>
    public Task<TResult> RunTaskAsync<TResult>(string name, Func<TaskContext, Task<TResult>> body, TaskOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return RunTaskAsync<Unit, TResult>(name, Unit.Value, (t, _) => body(t), options);
    }

    /// <summary>Runs an inline task that returns nothing. See <see cref="RunTaskAsync{TInput, TResult}"/>.</summary>
    /// <param name="name">The task name.</param>
    /// <param name="body">The task's code.</param>
    /// <param name="options">The options.</param>
    /// <returns>A task.</returns>
    public Task RunTaskAsync(string name, Func<TaskContext, Task> body, TaskOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return RunTaskAsync<Unit, Unit>(name, Unit.Value, async (t, _) =>
        {
            await body(t).ConfigureAwait(false);
            return Unit.Value;
        }, options);
    }

    /// <summary>
    /// Calls a registered task by name. Registered tasks can run <see cref="TaskExecutionMode.Distributed"/>
    /// on any worker instance.
    /// </summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="taskName">The registered task name.</param>
    /// <param name="input">The input (serialized to JSON).</param>
    /// <param name="options">The options; null for the task type's own <see cref="FlowTask{TInput, TOutput}.Options"/>.</param>
    /// <returns>The result.</returns>
    public abstract Task<TResult> CallTaskAsync<TResult>(string taskName, object? input, TaskOptions? options = null);

    /// <summary>Calls a registered task type.</summary>
    /// <typeparam name="TTask">The task type.</typeparam>
    /// <typeparam name="TInput">Its input type.</typeparam>
    /// <typeparam name="TResult">Its result type.</typeparam>
    /// <param name="input">The input.</param>
    /// <param name="options">The options; null for the task type's own.</param>
    /// <returns>The result.</returns>
    public Task<TResult> CallTaskAsync<TTask, TInput, TResult>(TInput input, TaskOptions? options = null)
        where TTask : FlowTask<TInput, TResult>
        => CallTaskAsync<TResult>(FlowNames.TaskName(typeof(TTask)), input, options);

    /// <summary>
    /// Maps an inline task over items: at most <paramref name="maxConcurrency"/> run at once, results come
    /// back in the items' order. If any item fails for good, the others still finish and the first failure
    /// (in item order) is thrown.
    /// </summary>
    /// <typeparam name="TInput">The item type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="name">The task name (every item's task run has it).</param>
    /// <param name="items">The items.</param>
    /// <param name="body">The task's code per item.</param>
    /// <param name="options">The options.</param>
    /// <param name="maxConcurrency">The most items in flight, at least 1. Defaults to 100.</param>
    /// <returns>The results, in item order.</returns>
    public Task<IReadOnlyList<TResult>> MapAsync<TInput, TResult>(string name, IEnumerable<TInput> items, Func<TaskContext, TInput, Task<TResult>> body, TaskOptions? options = null, int maxConcurrency = 100)
    {
        ArgumentNullException.ThrowIfNull(body);
        return MapCoreAsync(items, item => RunTaskAsync(name, item, body, options), maxConcurrency);
    }

    /// <summary>Maps a registered task over items (fan-out, in-order fan-in); see <see cref="MapAsync{TInput, TResult}(string, IEnumerable{TInput}, Func{TaskContext, TInput, Task{TResult}}, TaskOptions?, int)"/>.</summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="taskName">The registered task name.</param>
    /// <param name="items">The inputs.</param>
    /// <param name="options">The options (use <see cref="TaskOptions.Distributed"/> to spread over workers).</param>
    /// <param name="maxConcurrency">The most items in flight. Defaults to 100.</param>
    /// <returns>The results, in item order.</returns>
    public Task<IReadOnlyList<TResult>> MapTaskAsync<TResult>(string taskName, IEnumerable<object?> items, TaskOptions? options = null, int maxConcurrency = 100)
        => MapCoreAsync(items, item => CallTaskAsync<TResult>(taskName, item, options), maxConcurrency);

    /// <summary>Starts a subflow (a child run with its own state and journal) and waits for its result.</summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="flowName">The registered flow name.</param>
    /// <param name="input">The child's parameters.</param>
    /// <param name="options">The options.</param>
    /// <returns>The child's result; a child that failed throws <see cref="FlowTaskFailedException"/>.</returns>
    public abstract Task<TResult> RunSubflowAsync<TResult>(string flowName, object? input, SubflowOptions? options = null);

    /// <summary>Starts a subflow of a flow type and waits for its result.</summary>
    /// <typeparam name="TFlow">The flow type.</typeparam>
    /// <typeparam name="TInput">Its input type.</typeparam>
    /// <typeparam name="TResult">Its result type.</typeparam>
    /// <param name="input">The child's parameters.</param>
    /// <param name="options">The options.</param>
    /// <returns>The child's result.</returns>
    public Task<TResult> RunSubflowAsync<TFlow, TInput, TResult>(TInput input, SubflowOptions? options = null)
        where TFlow : Flow<TInput, TResult>
        => RunSubflowAsync<TResult>(FlowNames.FlowName(typeof(TFlow)), input, options);

    /// <summary>A durable sleep: the run is suspended (no compute held) and resumes after the delay, even across restarts.</summary>
    /// <param name="delay">How long, from <see cref="UtcNow"/>.</param>
    /// <returns>A task that completes when the time has come.</returns>
    public abstract Task SleepAsync(TimeSpan delay);

    /// <summary>A durable sleep until a time.</summary>
    /// <param name="until">When to resume.</param>
    /// <returns>A task.</returns>
    public Task SleepUntilAsync(DateTimeOffset until) => SleepAsync(until - UtcNow);

    /// <summary>
    /// Waits durably for an external event sent to the run (through the API or the engine). An event sent
    /// before the flow waits for it is kept and delivered to the first wait with its name.
    /// </summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="name">The event name.</param>
    /// <param name="timeout">How long to wait, or null for ever.</param>
    /// <returns>The payload. Throws <see cref="TimeoutException"/> when the timeout passes first.</returns>
    public abstract Task<T> WaitForEventAsync<T>(string name, TimeSpan? timeout = null);

    /// <summary>The event name <see cref="PauseAsync{T}"/> waits for (<c>POST /api/runs/{id}/resume</c> sends it).</summary>
    public const string ResumeEventName = "resume";

    /// <summary>
    /// Pauses the run until someone resumes it (<c>POST /api/runs/{id}/resume</c> with an optional JSON body), like Prefect's
    /// <c>pause_flow_run(wait_for_input=...)</c>: durable (no compute is held while paused), and the body given to the resume
    /// is returned. The same as <see cref="WaitForEventAsync{T}"/> with <see cref="ResumeEventName"/>.
    /// </summary>
    /// <typeparam name="T">The input type (use <see cref="System.Text.Json.JsonElement"/> for any JSON, or a record).</typeparam>
    /// <param name="timeout">How long to stay paused, or null for ever.</param>
    /// <returns>The input sent with the resume. Throws <see cref="TimeoutException"/> when the timeout passes first.</returns>
    public Task<T> PauseAsync<T>(TimeSpan? timeout = null) => WaitForEventAsync<T>(ResumeEventName, timeout);

    /// <summary>Creates (or replaces, by key) a markdown artifact on the run.</summary>
    /// <param name="key">The key: 1-100 characters of lowercase letters, digits and '-'.</param>
    /// <param name="markdown">The markdown.</param>
    /// <param name="description">An optional description.</param>
    /// <returns>A task.</returns>
    public Task CreateMarkdownArtifactAsync(string key, string markdown, string? description = null)
        => CreateArtifactAsync(key, ArtifactKind.Markdown, markdown, description);

    /// <summary>Creates a table artifact from rows (each serialized as a JSON object).</summary>
    /// <param name="key">The key.</param>
    /// <param name="rows">The rows.</param>
    /// <param name="description">An optional description.</param>
    /// <returns>A task.</returns>
    public Task CreateTableArtifactAsync(string key, IEnumerable<object> rows, string? description = null)
        => CreateArtifactAsync(key, ArtifactKind.Table, JsonSerializer.Serialize(rows, SerializerOptions), description);

    /// <summary>Creates a link artifact.</summary>
    /// <param name="key">The key.</param>
    /// <param name="link">The URI.</param>
    /// <param name="description">An optional description.</param>
    /// <returns>A task.</returns>
    public Task CreateLinkArtifactAsync(string key, Uri link, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(link);
        return CreateArtifactAsync(key, ArtifactKind.Link, link.ToString(), description);
    }

    /// <summary>Creates an artifact; recorded with the run's next commit and not again on replay.</summary>
    /// <param name="key">The key.</param>
    /// <param name="kind">The kind.</param>
    /// <param name="data">The content.</param>
    /// <param name="description">An optional description.</param>
    /// <returns>A task.</returns>
    protected abstract Task CreateArtifactAsync(string key, ArtifactKind kind, string data, string? description);

    private static async Task<IReadOnlyList<TResult>> MapCoreAsync<TInput, TResult>(IEnumerable<TInput> items, Func<TInput, Task<TResult>> start, int maxConcurrency)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrency, 1);
        var list = items as IReadOnlyList<TInput> ?? items.ToList();
        var tasks = new Task<TResult>[list.Count];
        var running = new List<Task<TResult>>(Math.Min(maxConcurrency, list.Count));
        var next = 0;
        while (next < list.Count || running.Count > 0)
        {
            while (running.Count < maxConcurrency && next < list.Count)
            {
                var task = start(list[next]);
                tasks[next++] = task;
                running.Add(task);
            }

            // Continuations run on the flow's scheduler (no ConfigureAwait), in the recorded order.
#pragma warning disable CA2007
            var done = await Task.WhenAny(running);
#pragma warning restore CA2007
            running.Remove(done);
        }

        var results = new TResult[list.Count];
        for (var i = 0; i < tasks.Length; i++)
        {
            if (tasks[i].IsFaulted)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(tasks[i].Exception!.InnerException!).Throw();
            }

            if (tasks[i].IsCanceled)
            {
                throw new OperationCanceledException("A mapped task was cancelled.");
            }

            results[i] = tasks[i].Result;
        }

        return results;
    }
}

/// <summary>What a task's code sees.</summary>
public abstract class TaskContext
{
    /// <summary>The run id.</summary>
    public abstract string RunId { get; }

    /// <summary>The flow name.</summary>
    public abstract string FlowName { get; }

    /// <summary>The task name.</summary>
    public abstract string TaskName { get; }

    /// <summary>The call's number within the flow-run attempt (the task run's key).</summary>
    public abstract int CallId { get; }

    /// <summary>The attempt, from 1.</summary>
    public abstract int Attempt { get; }

    /// <summary>
    /// A key that is the same for every attempt and every re-execution of this task call (run id, flow
    /// attempt and call id). Pass it to systems with side effects so a task that runs twice after a crash
    /// does its work once.
    /// </summary>
    public abstract string IdempotencyKey { get; }

    /// <summary>Cancelled when the attempt's timeout passes or the run is cancelled.</summary>
    public abstract CancellationToken CancellationToken { get; }

    /// <summary>A logger whose lines go to the run's logs (attached to this task run) and the host's log.</summary>
    public abstract ILogger Logger { get; }

    /// <summary>The clock (a fake one in tests); use it for delays inside the task.</summary>
    public abstract TimeProvider TimeProvider { get; }

    /// <summary>The host's services.</summary>
    public abstract IServiceProvider Services { get; }

    /// <summary>Creates (or replaces, by key) an artifact attached to this task run.</summary>
    /// <param name="key">The key: 1-100 characters of lowercase letters, digits and '-'.</param>
    /// <param name="kind">The kind.</param>
    /// <param name="data">The content: markdown, a JSON array of objects, or a URI.</param>
    /// <param name="description">An optional description.</param>
    public abstract void CreateArtifact(string key, ArtifactKind kind, string data, string? description = null);
}
