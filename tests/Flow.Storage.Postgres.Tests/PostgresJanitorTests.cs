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

    [Fact]
    public async Task InitializeAsync_OwnerAliveWithAStartTimeReadMillisecondsApart_KeepsItsCluster()
    {
        // Another process computes a live owner's start time a few milliseconds off (.NET derives it from its own boot time).
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var live = new PostgresFixture();
        await live.InitializeAsync().AsTask().WaitAsync(deadline, "the live cluster to start");
        var ownerFile = Path.Combine(live.ClusterDirectory, "owner.pid");
        var parts = (await File.ReadAllTextAsync(ownerFile, deadline.Token)).Split(' ');
        var skewed = long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) + TimeSpan.FromMilliseconds(7).Ticks;
        await File.WriteAllTextAsync(ownerFile, parts[0] + " " + skewed.ToString(System.Globalization.CultureInfo.InvariantCulture), deadline.Token);

        await using var next = new PostgresFixture();
        await next.InitializeAsync().AsTask().WaitAsync(deadline, "the next cluster to start");

        Assert.True(await FreePorts.AcceptsConnectionsAsync(live.Port, deadline.Token), "the janitor stopped a cluster whose owner is alive");
    }
}
