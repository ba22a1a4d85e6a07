using System.Diagnostics;

namespace Flow.TestSupport;

/// <summary>
/// The deadline every integration test runs under. Every test that touches a process, a socket, Azurite or
/// PostgreSQL must create one first and pass its <see cref="Token"/> to everything it awaits:
/// <code>
/// using var deadline = TestDeadline.Create();               // 30 s unless told otherwise
/// await store.SaveAsync(run, deadline.Token);
/// await runner.WaitForExitAsync(deadline.Token);
/// var reply = await pendingTask.WaitAsync(deadline);       // TimeoutException naming the deadline
/// await deadline.PollUntilAsync(ct => IsReadyAsync(ct), "the API answers");
/// </code>
/// The token is cancelled when the deadline passes or when xunit cancels the test
/// (<c>TestContext.Current.CancellationToken</c>), so a hung test fails instead of hanging the run.
/// </summary>
public sealed class TestDeadline : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly CancellationToken _testCancellation;
    private readonly Stopwatch _stopwatch = Stopwatch.StartNew();

    private TestDeadline(TimeSpan timeout, CancellationToken testCancellation)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        Timeout = timeout;
        _testCancellation = testCancellation;
        _source = CancellationTokenSource.CreateLinkedTokenSource(testCancellation);
        _source.CancelAfter(timeout);
    }

    /// <summary>The default deadline of an integration test: 30 seconds.</summary>
    public static TimeSpan DefaultTimeout { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Cancelled when the deadline passes or the test is cancelled.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>The time allowed.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Time since the deadline was created.</summary>
    public TimeSpan Elapsed => _stopwatch.Elapsed;

    /// <summary>Time left, never negative.</summary>
    public TimeSpan Remaining => Timeout - Elapsed is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;

    /// <summary>Whether the deadline itself (not the test runner) cancelled <see cref="Token"/>.</summary>
    public bool IsExpired => _source.IsCancellationRequested && !_testCancellation.IsCancellationRequested;

    /// <summary>Starts a deadline linked to the current xunit test's cancellation token.</summary>
    /// <param name="timeout">Time allowed; <see cref="DefaultTimeout"/> when null.</param>
    public static TestDeadline Create(TimeSpan? timeout = null) =>
        new(timeout ?? DefaultTimeout, TestContext.Current.CancellationToken);

    /// <summary>Starts a deadline linked to <paramref name="cancellationToken"/> (for fixtures and helpers outside a test).</summary>
    public static TestDeadline Create(TimeSpan timeout, CancellationToken cancellationToken) => new(timeout, cancellationToken);

    /// <summary>Lets a deadline be passed where a <see cref="CancellationToken"/> is expected.</summary>
    public static implicit operator CancellationToken(TestDeadline deadline)
    {
        ArgumentNullException.ThrowIfNull(deadline);
        return deadline.Token;
    }

    /// <summary>The same as <see cref="Token"/> (named alternative for the implicit conversion).</summary>
    public CancellationToken ToCancellationToken() => Token;

    /// <summary>
    /// Evaluates <paramref name="condition"/> every <paramref name="interval"/> (default 50 ms) until it returns true.
    /// Exceptions from the condition count as "not yet" and are reported if the deadline passes.
    /// </summary>
    /// <exception cref="TimeoutException">The deadline passed first; the message names <paramref name="description"/>.</exception>
    public Task PollUntilAsync(Func<CancellationToken, Task<bool>> condition, string description, TimeSpan? interval = null) =>
        Poll.UntilAsync(condition, description, this, interval);

    /// <summary>The exception to throw when the deadline passed while waiting for <paramref name="what"/>.</summary>
    public TimeoutException Expired(string what, Exception? inner = null) =>
        new($"Test deadline of {Timeout.TotalSeconds:0.#} s passed after {Elapsed.TotalSeconds:0.0} s while waiting for {what}.", inner);

    /// <inheritdoc />
    public void Dispose() => _source.Dispose();
}

/// <summary>Awaiting under a <see cref="TestDeadline"/>.</summary>
public static class TestDeadlineExtensions
{
    /// <summary>Awaits <paramref name="task"/>; throws <see cref="TimeoutException"/> if the deadline passes first.</summary>
    public static async Task WaitAsync(this Task task, TestDeadline deadline, string? what = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(deadline);
        try
        {
            await task.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException e) when (deadline.IsExpired && !task.IsCompleted)
        {
            throw deadline.Expired(what ?? "a task", e);
        }
    }

    /// <summary>Awaits <paramref name="task"/>; throws <see cref="TimeoutException"/> if the deadline passes first.</summary>
    public static async Task<T> WaitAsync<T>(this Task<T> task, TestDeadline deadline, string? what = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(deadline);
        try
        {
            return await task.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException e) when (deadline.IsExpired && !task.IsCompleted)
        {
            throw deadline.Expired(what ?? "a task", e);
        }
    }
}

/// <summary>Deadline-bounded polling for conditions that cannot be awaited directly (a port opening, a row appearing).</summary>
public static class Poll
{
    /// <summary>The default pause between two evaluations of a condition.</summary>
    public static TimeSpan DefaultInterval { get; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Polls <paramref name="condition"/> until it returns true or <paramref name="deadline"/> passes.</summary>
    /// <exception cref="TimeoutException">The deadline passed first.</exception>
    public static async Task UntilAsync(
        Func<CancellationToken, Task<bool>> condition, string description, TestDeadline deadline, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(deadline);
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await condition(deadline.Token))
                {
                    return;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !deadline.Token.IsCancellationRequested)
            {
                last = e;
            }
            catch (OperationCanceledException e) when (deadline.IsExpired)
            {
                throw deadline.Expired(description, last ?? e);
            }

            try
            {
                await Task.Delay(interval ?? DefaultInterval, deadline.Token);
            }
            catch (OperationCanceledException e) when (deadline.IsExpired)
            {
                throw deadline.Expired(description, last ?? e);
            }
        }
    }

    /// <summary>Polls <paramref name="condition"/> for at most <paramref name="timeout"/> (also stops on <paramref name="cancellationToken"/>).</summary>
    /// <exception cref="TimeoutException">The time ran out first.</exception>
    public static async Task UntilAsync(
        Func<CancellationToken, Task<bool>> condition, string description, TimeSpan timeout,
        CancellationToken cancellationToken, TimeSpan? interval = null)
    {
        using var deadline = TestDeadline.Create(timeout, cancellationToken);
        await UntilAsync(condition, description, deadline, interval);
    }
}
