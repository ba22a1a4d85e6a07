using System.Text.Json;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary>
/// The built Flow.Functions executable as a real process against storage it cannot use: an outage is retried while
/// /api/health says <c>starting</c>; a configuration that can never work ends the process with a non-zero exit code and a
/// message naming the setting, never the secret.
/// </summary>
public sealed class StorageStartupTests(ITestOutputHelper output, AzuriteFixture azurite)
{
    [Fact]
    public async Task Start_WrongAccountKey_ExitsNonZeroNamingTheSettingNotTheKey()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        var fakeKey = Convert.ToBase64String(Enumerable.Repeat((byte)0x5a, 64).ToArray());
        var connection = azurite.ConnectionString.Replace("AccountKey=" + azurite.AccountKey, "AccountKey=" + fakeKey, StringComparison.Ordinal);
        Assert.Contains(fakeKey, connection, StringComparison.Ordinal);

        var result = await ProcessRunner.RunAsync(RepoPaths.DotNetHost, [RepoPaths.FunctionsAssembly, "--urls", $"http://127.0.0.1:{FreePorts.Next()}"], Options(connection), deadline);

        output.WriteLine(result.Output);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("flow: error: the storage account refused the credentials", result.Output, StringComparison.Ordinal);
        Assert.Contains("AzureWebJobsStorage", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(fakeKey, result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_UnknownAccountHost_ExitsNonZeroNamingTheSetting()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(120));
        var endpoint = "http://flow-no-such-account.invalid/";
        var connection = $"DefaultEndpointsProtocol=http;AccountName=nosuchaccount;AccountKey={azurite.AccountKey};BlobEndpoint={endpoint};QueueEndpoint={endpoint};TableEndpoint={endpoint};";

        var result = await ProcessRunner.RunAsync(RepoPaths.DotNetHost, [RepoPaths.FunctionsAssembly, "--urls", $"http://127.0.0.1:{FreePorts.Next()}"], Options(connection), deadline);

        output.WriteLine(result.Output);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("flow: error: the storage account's host name does not exist", result.Output, StringComparison.Ordinal);
        Assert.Contains("AzureWebJobsStorage", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(azurite.AccountKey, result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_StorageUnreachable_KeepsRetryingWhileHealthSaysStarting()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(120));
        var port = FreePorts.Next();
        var closed = new Uri($"http://127.0.0.1:{FreePorts.Next()}/{azurite.AccountName}");
        var connection = $"DefaultEndpointsProtocol=http;AccountName={azurite.AccountName};AccountKey={azurite.AccountKey};BlobEndpoint={closed};QueueEndpoint={closed};TableEndpoint={closed};";
        await using var app = ProcessRunner.Start(RepoPaths.DotNetHost, [RepoPaths.FunctionsAssembly, "--urls", $"http://127.0.0.1:{port}"], Options(connection) with { OnOutputLine = output.WriteLine });
        // The answer says "starting" at once; the generous timeout is for a machine under heavy load (the deadline bounds the test).
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        // Three failed attempts (each after the storage client's own retries), and the app is still up and says why.
        await deadline.PollUntilAsync(_ =>
        {
            Assert.False(app.HasExited, $"Flow.Functions exited with {app.ExitCode} while the storage was unreachable:\n{app.Output}");
            return Task.FromResult(app.Output.Split('\n').Count(l => l.Contains("Storage is not reachable yet", StringComparison.Ordinal)) >= 3);
        }, "three start-up attempts against the unreachable storage");
        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/api/health"), deadline);
        var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync(deadline)).RootElement;

        Assert.False(app.HasExited, $"Flow.Functions exited with {app.ExitCode}:\n{app.Output}");
        Assert.Equal("starting", health.GetProperty("status").GetString());
        Assert.StartsWith("storage not reachable", health.GetProperty("problem").GetString(), StringComparison.Ordinal);
    }

    private static ProcessRunnerOptions Options(string connection) => new()
    {
        WorkingDirectory = Path.GetDirectoryName(RepoPaths.FunctionsAssembly),
        Environment = new Dictionary<string, string?> { ["AzureWebJobsStorage"] = connection, ["FUNCTIONS_CUSTOMHANDLER_PORT"] = null },
    };
}
