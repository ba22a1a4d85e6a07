namespace Flow.Sdk.Tests;

public sealed class TaskOptionsRegistrationTests
{
    [FlowTask("initialized-options")]
    private sealed class InitializedOptionsTask : FlowTask<int, int>
    {
        public override TaskOptions Options { get; } = TaskOptions.WithRetries(3, RetryDelay.Fixed(TimeSpan.FromSeconds(10))) with { RetryJitterFactor = 0.2 };

        public override Task<int> RunAsync(TaskContext context, int input) => Task.FromResult(input);
    }

    [Fact]
    public void AddTask_OptionsFromAPropertyInitializer_AreTheRegisteredOptions()
    {
        var registry = new FlowRegistry().AddTask<InitializedOptionsTask>();

        Assert.True(registry.TryGetTask("initialized-options", out var task));
        Assert.Equal(3, task.Options.Retries);
        Assert.Equal(0.2, task.Options.RetryJitterFactor);
    }
}
