using System.Reflection;
using System.Text.Json;
using Flow.Sdk;
using Flow.LocalServices;

namespace Flow.Benchmarks.Engine;

/// <summary>A run that reached a final state, as the worker that finished it saw it.</summary>
internal sealed record FinishedRun(string RunId, RunState State, DateTimeOffset At);

/// <summary>One worker of (c): a FlowWorker on a backend, started and stopped per round, that also runs the raw baseline.</summary>
internal interface IBenchWorker : IAsyncDisposable
{
    /// <summary>Raised when a commit of this worker's engine put a run into a final state.</summary>
    event Action<FinishedRun>? RunFinished;

    /// <summary>Raised when this worker deleted a run's work item (with the run id).</summary>
    event Action<string>? RunMessageCompleted;

    /// <summary>Starts a FlowWorker (default options) on the backend; returns once it polls.</summary>
    Task StartAsync(BackendSpec backend, CancellationToken cancellationToken);

    /// <summary>Forgets the calls counted so far.</summary>
    Task ResetAsync(CancellationToken cancellationToken);

    /// <summary>Stops the FlowWorker; returns the calls counted since the last reset.</summary>
    Task<(CallSnapshot Calls, CallSnapshot Http)> StopAsync(CancellationToken cancellationToken);

    /// <summary>Runs <see cref="RawConsumer.DrainAsync"/> on a queue of the backend.</summary>
    Task<(DrainResult Result, CallSnapshot Calls, CallSnapshot Http)> DrainAsync(BackendSpec backend, string queue, int slots, CancellationToken cancellationToken);
}

/// <summary>A worker in this process (also what a worker process runs).</summary>
internal sealed class LocalBenchWorker(string workerId) : IBenchWorker
{
    private EngineNode? _node;

    public event Action<FinishedRun>? RunFinished;

    public event Action<string>? RunMessageCompleted;

    public async Task StartAsync(BackendSpec backend, CancellationToken cancellationToken)
    {
        _node = await EngineNode.StartAsync(backend, workerId, runWorker: true, cancellationToken).ConfigureAwait(false);
        _node.Storage.Store.RunFinished += r => RunFinished?.Invoke(new FinishedRun(r.RunId, r.State, DateTimeOffset.UtcNow));
        _node.Storage.Queue.RunItemCompleted += id => RunMessageCompleted?.Invoke(id);
    }

    public Task ResetAsync(CancellationToken cancellationToken)
    {
        Node.Storage.Reset();
        return Task.CompletedTask;
    }

    public async Task<(CallSnapshot Calls, CallSnapshot Http)> StopAsync(CancellationToken cancellationToken)
    {
        var node = Node;
        _node = null;
        await node.DisposeAsync().ConfigureAwait(false);
        return node.Storage.Snapshot();
    }

    public async Task<(DrainResult Result, CallSnapshot Calls, CallSnapshot Http)> DrainAsync(BackendSpec backend, string queue, int slots, CancellationToken cancellationToken)
    {
        var storage = BenchStorage.Create(backend);
        var result = await RawConsumer.DrainAsync(storage.Queue, queue, slots, cancellationToken).ConfigureAwait(false);
        var (calls, http) = storage.Snapshot();
        return (result, calls, http);
    }

    public async ValueTask DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync().ConfigureAwait(false);
        }
    }

    private EngineNode Node => _node ?? throw new InvalidOperationException("The worker is not started.");
}

/// <summary>A command to a worker process, one JSON line on its stdin.</summary>
internal sealed record WorkerCommand(string Command, string? ConnectionString = null, string? Prefix = null, string? Queue = null, int Slots = 0, string? Backend = null);

/// <summary>A line a worker process prints: the answer to a command, or a <c>finished</c> run.</summary>
internal sealed record WorkerMessage(string Event)
{
    public string? Error { get; init; }

    public FinishedRun? Finished { get; init; }

    public string? RunId { get; init; }

    public DrainResult? Drain { get; init; }

    public CallSnapshot? Calls { get; init; }

    public CallSnapshot? Http { get; init; }
}

/// <summary>
/// A worker in its own OS process (this executable in <c>engine-worker</c> mode) driven over stdin/stdout JSON lines;
/// the process exits when its stdin closes.
/// </summary>
internal sealed class ProcessBenchWorker : IBenchWorker
{
    public const string Mode = "engine-worker";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ProcessRunner _process;
    private readonly SemaphoreSlim _oneCommand = new(1);
    private TaskCompletionSource<WorkerMessage>? _answer;

    private ProcessBenchWorker(int index)
    {
        var exe = Environment.ProcessPath ?? throw new InvalidOperationException("The process path is unknown.");
        var arguments = new List<string>();
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet")
        {
            arguments.Add(Assembly.GetEntryAssembly()!.Location);
        }

        arguments.AddRange([Mode, $"bench-worker-{index}"]);
        _process = ProcessRunner.Start(exe, arguments, new ProcessRunnerOptions { OnOutputLine = OnLine });
    }

    public event Action<FinishedRun>? RunFinished;

    public event Action<string>? RunMessageCompleted;

    public static ProcessBenchWorker Launch(int index) => new(index);

    public Task StartAsync(BackendSpec backend, CancellationToken cancellationToken) =>
        SendAsync(Command("start", backend), cancellationToken);

    public Task ResetAsync(CancellationToken cancellationToken) => SendAsync(new WorkerCommand("reset"), cancellationToken);

    public async Task<(CallSnapshot Calls, CallSnapshot Http)> StopAsync(CancellationToken cancellationToken)
    {
        var answer = await SendAsync(new WorkerCommand("stop"), cancellationToken).ConfigureAwait(false);
        return (answer.Calls!, answer.Http!);
    }

    public async Task<(DrainResult Result, CallSnapshot Calls, CallSnapshot Http)> DrainAsync(BackendSpec backend, string queue, int slots, CancellationToken cancellationToken)
    {
        var answer = await SendAsync(Command("drain", backend) with { Queue = queue, Slots = slots }, cancellationToken).ConfigureAwait(false);
        return (answer.Drain!, answer.Calls!, answer.Http!);
    }

    public async ValueTask DisposeAsync()
    {
        _process.CloseStandardInput();
        await Task.WhenAny(_process.WaitForExitAsync(CancellationToken.None), Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false);
        await _process.DisposeAsync().ConfigureAwait(false);
        _oneCommand.Dispose();
    }

    /// <summary>The worker process's main loop: one command per stdin line, answers and finished runs on stdout.</summary>
    public static async Task<int> RunChildAsync(string workerId)
    {
        var output = new Lock();
        void Write(WorkerMessage message)
        {
            var line = JsonSerializer.Serialize(message, Json);
            lock (output)
            {
                Console.Out.WriteLine(line);
                Console.Out.Flush();
            }
        }

        await using var worker = new LocalBenchWorker(workerId);
        worker.RunFinished += run => Write(new WorkerMessage("finished") { Finished = run });
        worker.RunMessageCompleted += id => Write(new WorkerMessage("completed") { RunId = id });
        while (await Console.In.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            try
            {
                var command = JsonSerializer.Deserialize<WorkerCommand>(line, Json)!;
                BackendSpec? backend = command.ConnectionString is null ? null
                    : command.Backend == "postgres" ? new BackendSpec.Postgres(command.ConnectionString, command.Prefix!)
                    : new BackendSpec.Azure(command.ConnectionString, command.Prefix!);
                switch (command.Command)
                {
                    case "start":
                        await worker.StartAsync(backend!, CancellationToken.None).ConfigureAwait(false);
                        Write(new WorkerMessage("started"));
                        break;
                    case "reset":
                        await worker.ResetAsync(CancellationToken.None).ConfigureAwait(false);
                        Write(new WorkerMessage("reset"));
                        break;
                    case "stop":
                        var (calls, http) = await worker.StopAsync(CancellationToken.None).ConfigureAwait(false);
                        Write(new WorkerMessage("stopped") { Calls = calls, Http = http });
                        break;
                    case "drain":
                        var drained = await worker.DrainAsync(backend!, command.Queue!, command.Slots, CancellationToken.None).ConfigureAwait(false);
                        Write(new WorkerMessage("drained") { Drain = drained.Result, Calls = drained.Calls, Http = drained.Http });
                        break;
                    default:
                        throw new ArgumentException($"Unknown command '{command.Command}'.");
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Write(new WorkerMessage("error") { Error = e.ToString() });
            }
        }

        return 0;
    }

    private static WorkerCommand Command(string name, BackendSpec backend) => backend switch
    {
        BackendSpec.Azure azure => new WorkerCommand(name, azure.ConnectionString, azure.Prefix, Backend: "azure"),
        BackendSpec.Postgres postgres => new WorkerCommand(name, postgres.ConnectionString, postgres.Prefix, Backend: "postgres"),
        _ => throw new ArgumentException("A worker process can only join an Azure or PostgreSQL backend (in-memory state is not shared between processes).", nameof(backend)),
    };

    private async Task<WorkerMessage> SendAsync(WorkerCommand command, CancellationToken cancellationToken)
    {
        await _oneCommand.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var answer = new TaskCompletionSource<WorkerMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
            _answer = answer;
            await _process.WriteLineAsync(JsonSerializer.Serialize(command, Json)).ConfigureAwait(false);
            var exited = _process.WaitForExitAsync(cancellationToken);
            var done = await Task.WhenAny(answer.Task, exited).WaitAsync(TimeSpan.FromMinutes(2), cancellationToken).ConfigureAwait(false);
            if (done != answer.Task)
            {
                throw new InvalidOperationException($"Worker process exited during '{command.Command}':\n{_process.Output}");
            }

            var message = await answer.Task.ConfigureAwait(false);
            return message.Event == "error" ? throw new InvalidOperationException($"Worker process failed '{command.Command}': {message.Error}") : message;
        }
        finally
        {
            _answer = null;
            _oneCommand.Release();
        }
    }

    private void OnLine(string line)
    {
        if (!line.StartsWith('{'))
        {
            if (line.StartsWith("err: ", StringComparison.Ordinal))
            {
                Console.Error.WriteLine(line[5..]);
            }

            return;
        }

        var message = JsonSerializer.Deserialize<WorkerMessage>(line, Json)!;
        if (message.Event == "finished")
        {
            RunFinished?.Invoke(message.Finished!);
        }
        else if (message.Event == "completed")
        {
            RunMessageCompleted?.Invoke(message.RunId!);
        }
        else
        {
            _answer?.TrySetResult(message);
        }
    }
}
