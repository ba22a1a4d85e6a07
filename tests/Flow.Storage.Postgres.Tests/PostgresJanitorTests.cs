using Flow.TestSupport;

namespace Flow.Storage.Postgres.Tests;

public sealed class PostgresJanitorTests
{
    [Fact]
    public async Task InitializeAsync_StopsAndDeletesClusters_WhoseOwnerProcessIsDead()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        var abandoned = new PostgresFixture();
        await abandoned.InitializeAsync().AsTask().WaitAsync(deadline, "the abandoned cluster to start");
        var abandonedDir = abandoned.ClusterDirectory;
        Assert.True(await FreePorts.AcceptsConnectionsAsync(abandoned.Port, deadline.Token));

        // Pretend its test process died without disposing it (pid 999999999 cannot exist).
        await File.WriteAllTextAsync(Path.Combine(abandonedDir, "owner.pid"), "999999999 0", deadline.Token);

        await using var next = new PostgresFixture();
        await next.InitializeAsync().AsTask().WaitAsync(deadline, "the next cluster to start");

        Assert.False(Directory.Exists(abandonedDir));
        Assert.False(await FreePorts.AcceptsConnectionsAsync(abandoned.Port, deadline.Token));
        Assert.True(Directory.Exists(next.ClusterDirectory));
        await abandoned.DisposeAsync();
    }
}
