using System.Text;
using Flow.TestSupport;

namespace Flow.ControlPlane.Tests;

public sealed class DeploymentFileTests
{
    [Fact]
    public void Parse_Yaml_TypesPlainScalarsAndKeepsQuotedOnesAsStrings()
    {
        var content = DeploymentFile.Parse("""
            deployments:
              - flow: report
                name: nightly
                concurrencyLimit: 2
                paused: false
                parameters:
                  region: eu
                  day: "2026"
                  count: 3
                  ratio: 0.5
                  note: ~
                schedules:
                  - interval: 900
            """);

        var deployment = Assert.Single(content.Deployments!);
        Assert.Equal(2, deployment.ConcurrencyLimit);
        Assert.False(deployment.Paused);
        Assert.Equal("""{"region":"eu","day":"2026","count":3,"ratio":0.5,"note":null}""", deployment.Parameters!.Value.GetRawText().Replace(" ", "", StringComparison.Ordinal));
        Assert.Equal(900, deployment.Schedules![0].Interval!.Value.GetInt32());
    }

    [Theory]
    [InlineData("deployments:\n  - flow: [unclosed\n", "(file)", "not valid YAML at line ")]
    [InlineData("deployments:\n  - flow: report\n    nmae: x\n", "deployments[0].nmae", "nmae")]
    [InlineData("deployments:\n  - flow: report\n    concurrencyLimit: many\n", "deployments[0].concurrencyLimit", "")]
    [InlineData("- just a list\n", "(file)", "deployments")]
    [InlineData("deployments:\n  - flow: a\n    flow: b\n", "(file)", "Duplicate key")]
    public void Parse_BadFile_NamesTheFieldOrLine(string text, string field, string fragment)
    {
        var e = Assert.Throws<InvalidRequestException>(() => DeploymentFile.Parse(text));

        Assert.Contains(field, e.Errors.Keys);
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_SameFileTwice_SecondReportsUnchangedAndWritesNothing()
    {
        using var deadline = TestDeadline.Create();
        await using var cp = new ControlPlaneHarness(new DateTimeOffset(2026, 11, 21, 8, 0, 0, TimeSpan.Zero));
        await cp.InitializeAsync(deadline);
        var content = DeploymentFile.Parse("""
            workPools:
              - name: batch
                concurrencyLimit: 3
            deployments:
              - flow: report
                name: nightly
                pool: batch
                parameters: {region: eu}
                schedules:
                  - cron: "0 2 * * *"
                    timezone: Australia/Lord_Howe
            """);

        var first = await DeploymentFile.ApplyAsync(cp.Deployments, content, "file:flow.yaml", deadline);
        var version = (await cp.Deployments.Store.GetDeploymentAsync("report/nightly", deadline))!.Version;
        cp.Clock.UtcNow += TimeSpan.FromMinutes(5);
        var second = await DeploymentFile.ApplyAsync(cp.Deployments, content, "file:flow.yaml", deadline);

        Assert.Equal("created", Assert.Single(first).Outcome);
        Assert.Equal("unchanged", Assert.Single(second).Outcome);
        Assert.Equal(version, (await cp.Deployments.Store.GetDeploymentAsync("report/nightly", deadline))!.Version);
        Assert.Equal(3, (await cp.Deployments.GetPoolAsync("batch", deadline)).ConcurrencyLimit);
    }

    [Fact]
    public async Task ApplyAsync_SecondDeploymentInvalid_PrefixesItsIndexAndWritesNeitherItNorLaterOnes()
    {
        using var deadline = TestDeadline.Create();
        await using var cp = new ControlPlaneHarness(new DateTimeOffset(2026, 11, 21, 8, 0, 0, TimeSpan.Zero));
        await cp.InitializeAsync(deadline);
        var content = DeploymentFile.Parse("""
            deployments:
              - flow: report
                name: a
                parameters: {region: eu}
              - flow: report
                name: b
                schedules:
                  - cron: "0 25 * * *"
            """);

        var e = await Assert.ThrowsAsync<InvalidRequestException>(() => DeploymentFile.ApplyAsync(cp.Deployments, content, "file", deadline));

        Assert.Contains("deployments[1].schedules[0].cron", e.Errors.Keys);
        Assert.Null(await cp.Deployments.Store.GetDeploymentAsync("report/b", deadline));
    }
}

public sealed class DeploymentFileLimitTests
{
    [Fact]
    public void Parse_NineLevelAliasBomb_IsRefusedAtTheFirstAnchorNamingItsLine()
    {
        var text = new StringBuilder("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var level = 'b'; level <= 'i'; level++)
        {
            text.Append(level).Append(": &").Append(level).Append(" [").Append(string.Join(", ", Enumerable.Repeat("*" + (char)(level - 1), 9))).Append("]\n");
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.Throws<InvalidRequestException>(() => DeploymentFile.Parse(text.ToString()));

        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - allocated < 10 * 1024 * 1024);
        Assert.Contains("line 1", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("deployments:\n  - &d {flow: report, name: a}\n  - *d\n", "line 2")]
    [InlineData("deployments:\n  - flow: report\n    name: a\n    parameters: *p\n", "line 4")]
    public void Parse_AnchorOrAlias_IsRefusedNamingTheLine(string yaml, string line)
    {
        var e = Assert.Throws<InvalidRequestException>(() => DeploymentFile.Parse(yaml));

        Assert.Contains(line, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NestedDeeperThan64_IsRefusedNamingTheField()
    {
        var yaml = "deployments:\n  - flow: report\n    name: a\n    parameters: " + new string('[', 70) + new string(']', 70) + "\n";

        var e = Assert.Throws<InvalidRequestException>(() => DeploymentFile.Parse(yaml));

        Assert.Contains("deployments[0].parameters", e.Errors.Keys);
    }

    [Fact]
    public async Task ApplyAsync_ValidPoolAndInvalidDeployment_WritesNothing()
    {
        using var deadline = TestDeadline.Create();
        await using var cp = new ControlPlaneHarness(new DateTimeOffset(2026, 11, 21, 8, 0, 0, TimeSpan.Zero));
        await cp.InitializeAsync(deadline);
        var content = DeploymentFile.Parse("""
            workPools:
              - name: batch
            deployments:
              - flow: report
                name: a
                pool: batch
                parameters: {region: eu}
              - flow: report
                name: b
                pool: batch
                parameters: {region: 5}
            """);

        var e = await Assert.ThrowsAsync<InvalidRequestException>(() => DeploymentFile.ApplyAsync(cp.Deployments, content, "file", deadline));

        Assert.Contains("deployments[1].parameters.region", e.Errors.Keys);
        Assert.Null(await cp.Deployments.Store.GetWorkPoolAsync("batch", deadline));
        Assert.Null(await cp.Deployments.Store.GetDeploymentAsync("report/a", deadline));
    }
}

public sealed class RunRequestHandlerTests
{
    [Theory]
    [InlineData("""{"deployment":"a/b"}""")]
    [InlineData("""  {"deployment":"a/b"}  """)]
    [InlineData("\"{\\\"deployment\\\":\\\"a/b\\\"}\"")]
    [InlineData("\"\\\"{\\\\\\\"deployment\\\\\\\":\\\\\\\"a/b\\\\\\\"}\\\"\"")]
    [InlineData("eyJkZXBsb3ltZW50IjoiYS9iIn0=")]
    public void Unwrap_PlainQuotedDoublyQuotedOrBase64_FindsTheObject(string body)
    {
        Assert.Equal("""{"deployment":"a/b"}""", RunRequestHandler.Unwrap(body));
    }

    [Theory]
    [InlineData("hello")]
    [InlineData("[1,2]")]
    [InlineData("")]
    public void Unwrap_NotAnObject_ReturnsNull(string body)
    {
        Assert.Null(RunRequestHandler.Unwrap(body));
    }

    [Fact]
    public async Task HandleAsync_SameMessageTwice_OneRun_AndBadMessagesAreRecordedWithTheirField()
    {
        using var deadline = TestDeadline.Create();
        await using var cp = new ControlPlaneHarness(new DateTimeOffset(2026, 11, 21, 8, 0, 0, TimeSpan.Zero));
        await cp.InitializeAsync(deadline);
        await cp.Deployments.ApplyAsync(new DeploymentSpec { Flow = "report", Name = "adhoc" }, "test", deadline);
        var handler = new RunRequestHandler(cp.Deployments, cp.Clock);
        var body = Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"deployment":"report/adhoc","parameters":{"region":"us"}}"""));

        var first = await handler.HandleAsync(body, "m-1", "q", deadline);
        var again = await handler.HandleAsync(body, "m-1", "q", deadline);
        cp.Clock.UtcNow += TimeSpan.FromSeconds(1);
        var unknownField = await handler.HandleAsync("""{"deployment":"report/adhoc","paramters":{}}""", "m-2", "q", deadline);
        cp.Clock.UtcNow += TimeSpan.FromSeconds(1);
        var badType = await handler.HandleAsync("""{"deployment":"report/adhoc","parameters":{"region":5}}""", "m-3", "q", deadline);
        cp.Clock.UtcNow += TimeSpan.FromSeconds(1);
        var missing = await handler.HandleAsync("""{"parameters":{}}""", "m-4", "q", deadline);

        Assert.True(first.Created);
        Assert.False(again.Created);
        Assert.Equal(first.RunId, again.RunId);
        Assert.Equal("paramters", unknownField.Rejection!.Field);
        Assert.Equal("parameters.region", badType.Rejection!.Field);
        Assert.Equal("deployment", missing.Rejection!.Field);
        var recorded = await cp.Deployments.Store.ListRejectedRequestsAsync(10, deadline);
        Assert.Equal(["m-4", "m-3", "m-2"], recorded.Select(r => r.Id));
    }
}
