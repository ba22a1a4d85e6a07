namespace Flow.TestSupport.Tests;

public sealed class TestDeadlineTests
{
    [Fact]
    public async Task WaitAsync_TaskNeverCompletes_ThrowsTimeoutNamingWhatItWaitedFor()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromMilliseconds(100));
        var never = new TaskCompletionSource<int>().Task;

        var error = await Assert.ThrowsAsync<TimeoutException>(() => never.WaitAsync(deadline, "the answer"));

        Assert.Contains("the answer", error.Message, StringComparison.Ordinal);
        Assert.True(deadline.IsExpired);
        Assert.True(deadline.Token.IsCancellationRequested);
    }

    [Fact]
    public async Task WaitAsync_TaskCompletesInTime_ReturnsItsResult()
    {
        using var deadline = TestDeadline.Create();

        Assert.Equal(42, await Task.FromResult(42).WaitAsync(deadline));
        Assert.False(deadline.IsExpired);
        Assert.InRange(deadline.Remaining, TimeSpan.Zero, TestDeadline.DefaultTimeout);
    }

    [Fact]
    public async Task PollUntilAsync_ConditionBecomesTrue_Returns()
    {
        using var deadline = TestDeadline.Create();
        var calls = 0;

        await deadline.PollUntilAsync(_ => Task.FromResult(++calls == 3), "the third call", TimeSpan.FromMilliseconds(1));

        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task PollUntilAsync_ConditionKeepsFailing_ThrowsTimeoutWithTheLastError()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromMilliseconds(200));

        var error = await Assert.ThrowsAsync<TimeoutException>(() =>
            deadline.PollUntilAsync(_ => throw new InvalidOperationException("not yet"), "something impossible"));

        Assert.Contains("something impossible", error.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(error.InnerException);
    }

    [Fact]
    public void Create_IsLinkedToTheTestCancellationToken()
    {
        using var deadline = TestDeadline.Create();
        CancellationToken token = deadline;

        Assert.Equal(deadline.Token, token);
        Assert.False(token.IsCancellationRequested);
        Assert.Equal(TimeSpan.FromSeconds(30), deadline.Timeout);
    }
}
