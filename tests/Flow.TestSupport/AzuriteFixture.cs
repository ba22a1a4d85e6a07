namespace Flow.TestSupport;

/// <summary>
/// A private, in-memory Azurite for one test assembly run (<see cref="LocalAzurite"/>), on free loopback ports. Register it once
/// per test project: <c>[assembly: AssemblyFixture(typeof(AzuriteFixture))]</c> and take it as a constructor parameter. Isolate
/// tests by naming tables and queues with <see cref="UniqueNames"/>.
/// </summary>
public sealed class AzuriteFixture : LocalAzurite, IAsyncLifetime
{
    /// <summary>Starts Azurite under the test run's cancellation.</summary>
    /// <returns>A task.</returns>
    public async ValueTask InitializeAsync() => await StartAsync(TestContext.Current.CancellationToken);
}
