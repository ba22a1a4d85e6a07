using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Flow.ControlPlane;
using Flow.Sdk;
using Flow.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Flow.Process.Tests;

/// <summary>
/// The trust model (docs/trust-model.md) against a real <c>flow worker start</c> process: a subprocess sees none of the
/// worker's credentials, and what runs on the worker's machine is the worker's decision, whatever a deployment or a pool says.
/// </summary>
public sealed class WorkerTrustTests(AzuriteFixture azurite)
{
    /// <summary>Credentials and settings a worker's environment typically holds, with values the subprocess must never print.</summary>
    private static readonly Dictionary<string, string?> WorkerCredentials = new()
    {
        ["Flow__Secrets__GREETING"] = "referenced-secret-8f2c",
        ["Flow__Secrets__UNUSED"] = "unreferenced-secret-41d7",
        ["Flow__Storage__Azure__AccountKey"] = "fake-account-key-93ab",
        ["AzureWebJobsStorage__accountName"] = "fakeaccount-77e1",
        ["AZURE_CLIENT_SECRET"] = "azure-client-secret-5b90",
        ["AZURE_CLIENT_ID"] = "azure-client-id-0c1e",
        ["AZURE_TENANT_ID"] = "azure-tenant-id-a6f3",
        ["AZURE_FEDERATED_TOKEN_FILE"] = "/var/run/secrets/azure-token-c3d2",
        ["AZURE_CLIENT_CERTIFICATE_PATH"] = "/etc/azure-cert-e8a4.pem",
        ["IDENTITY_ENDPOINT"] = "http://169.254.169.254/identity-1f6b",
        ["IDENTITY_HEADER"] = "identity-header-92c5",
        ["MSI_ENDPOINT"] = "http://169.254.169.254/msi-4a0d",
        ["MSI_SECRET"] = "msi-secret-7e3f",
        ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "InstrumentationKey=appinsights-b5c8",
        ["SOME_OTHER_WORKER_VARIABLE"] = "not-on-the-allow-list-2d9e",
    };

    [Fact]
    public async Task CliWorker_EnvCommand_SeesReferencedSecretAndNoWorkerCredential()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline, hostWorker: false);
        var storageKey = azurite.ConnectionString.Split(';').First(p => p.StartsWith("AccountKey=", StringComparison.Ordinal))["AccountKey=".Length..];
        var deployment = await app.DeployAsync("env", ["/usr/bin/env"], deadline, environment: new() { ["GREETING"] = "secret:GREETING", ["PLAIN"] = "visible" });

        await using var worker = app.StartCliWorker("trust-env", allow: ["/usr/bin/env"], environment: WorkerCredentials);
        var runId = await app.TriggerAsync(deployment, deadline);
        var run = await app.WaitFinalAsync(runId, deadline);

        var printed = (await app.LogsAsync(runId, deadline)).Where(l => l.Level == "Information").Select(l => l.Message).ToList();
        Assert.True(run.State == RunState.Completed, $"{run.State}: {run.StateMessage}; worker: {worker.Output}");
        Assert.Contains("GREETING=referenced-secret-8f2c", printed);
        Assert.Contains("PLAIN=visible", printed);
        Assert.Contains("FLOW_RUN_ID=" + runId, printed);
        Assert.Contains(printed, l => l.StartsWith("PATH=", StringComparison.Ordinal));
        var variables = printed.Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith("Started process", StringComparison.Ordinal)).Select(l => l[..l.IndexOf('=', StringComparison.Ordinal)]).ToList();
        Assert.DoesNotContain(variables, v => v.StartsWith("AzureWebJobs", StringComparison.OrdinalIgnoreCase) || v.StartsWith("Flow__", StringComparison.OrdinalIgnoreCase)
            || v.StartsWith("APPLICATIONINSIGHTS_", StringComparison.Ordinal) || v.StartsWith("AZURE_", StringComparison.Ordinal) || v.StartsWith("IDENTITY_", StringComparison.Ordinal) || v.StartsWith("MSI_", StringComparison.Ordinal));
        foreach (var secret in WorkerCredentials.Where(kv => kv.Key != "Flow__Secrets__GREETING").Select(kv => kv.Value!).Append(storageKey))
        {
            Assert.DoesNotContain(printed, l => l.Contains(secret, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task CliWorker_DeploymentPathOrWorkingDirectoryOrPool_CannotChooseAnotherBinary()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(120));
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline, hostWorker: false);
        var root = Directory.CreateTempSubdirectory("flow-trust-");
        try
        {
            var good = Directory.CreateDirectory(Path.Combine(root.FullName, "good")).FullName;
            var evil = Directory.CreateDirectory(Path.Combine(root.FullName, "evil")).FullName;
            var marker = Path.Combine(root.FullName, "evil-ran");
            WriteScript(Path.Combine(good, "tool.sh"), "echo good tool");
            WriteScript(Path.Combine(evil, "tool.sh"), $"echo evil tool; touch {marker}");
            WriteScript(Path.Combine(evil, "env"), $"echo evil env; touch {marker}");
            using var http = new HttpClient { BaseAddress = new Uri(app.ApiUrl + "/api/") };

            // The pool names more than the worker allows (sh) and a PUT without allowedCommands keeps its list.
            using (var put = await http.PutAsJsonAsync($"work-pools/{app.Pool}", new { type = "process", allowedCommands = new[] { "env", "./tool.sh", "sh" } }, deadline.Token))
            {
                Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            }

            using (var put = await http.PutAsJsonAsync($"work-pools/{app.Pool}", new { type = "process", description = "no list given" }, deadline.Token))
            {
                var pool = JsonDocument.Parse(await put.Content.ReadAsStringAsync(deadline.Token)).RootElement;
                Assert.Equal(HttpStatusCode.OK, put.StatusCode);
                Assert.Equal(["env", "./tool.sh", "sh"], pool.GetProperty("allowedCommands").EnumerateArray().Select(e => e.GetString()));
            }

            // A deployment may not set PATH, LD_* or DOTNET_*: 400 naming the variable.
            foreach (var variable in new[] { "PATH", "LD_PRELOAD", "DOTNET_STARTUP_HOOKS" })
            {
                using var refused = await http.PutAsJsonAsync("deployments/script/with-" + variable.ToLowerInvariant().Replace('_', '-'), new { pool = app.Pool, entrypoint = new { kind = "process", command = new[] { "env" }, environment = new Dictionary<string, string> { [variable] = evil } } }, deadline.Token);
                var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(deadline.Token)).RootElement;
                Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
                Assert.True(problem.GetProperty("errors").TryGetProperty("entrypoint.environment." + variable, out _), problem.GetRawText());
            }

            // One stored before validation refused it: the worker refuses it too.
            var pathDeployment = await app.DeployAsync("path-env", ["env"], deadline);
            var control = app.App.Services.GetRequiredService<IControlStore>();
            var stored = (await control.GetDeploymentAsync(pathDeployment, deadline))!;
            await control.PutDeploymentAsync(stored.Record with { Entrypoint = stored.Record.Entrypoint with { Environment = new Dictionary<string, string> { ["PATH"] = evil } } }, stored.Version, deadline);
            var evilDirectory = await DeployInAsync(app, "evil-dir", ["./tool.sh"], evil, deadline);
            var goodDirectory = await DeployInAsync(app, "good-dir", ["./tool.sh"], good, deadline);
            var shell = await app.DeployAsync("shell", ["sh", "-c", $"touch {marker}"], deadline);
            var plainEnv = await app.DeployAsync("plain-env", ["env"], deadline);

            await using var worker = app.StartCliWorker("trust-allow", allow: ["./tool.sh", "env"], workingDirectory: good);
            var path = await app.WaitFinalAsync(await app.TriggerAsync(pathDeployment, deadline), deadline);
            var evilRun = await app.WaitFinalAsync(await app.TriggerAsync(evilDirectory, deadline), deadline);
            var shellRun = await app.WaitFinalAsync(await app.TriggerAsync(shell, deadline), deadline);
            var goodRunId = await app.TriggerAsync(goodDirectory, deadline);
            var goodRun = await app.WaitFinalAsync(goodRunId, deadline);
            var envRun = await app.WaitFinalAsync(await app.TriggerAsync(plainEnv, deadline), deadline);

            Assert.False(File.Exists(marker), "a binary the worker does not allow ran");
            Assert.Equal(RunState.Failed, path.State);
            Assert.Contains("'PATH' chooses which code runs", path.StateMessage, StringComparison.Ordinal);
            Assert.Equal(RunState.Failed, evilRun.State);
            Assert.Contains($"resolves to {Path.Combine(evil, "tool.sh")}, which is not among the executables this worker allows", evilRun.StateMessage, StringComparison.Ordinal);
            Assert.Equal(RunState.Failed, shellRun.State);
            Assert.Contains("not among the executables this worker allows", shellRun.StateMessage, StringComparison.Ordinal);
            Assert.True(goodRun.State == RunState.Completed, $"{goodRun.State}: {goodRun.StateMessage}");
            Assert.Contains(await app.LogsAsync(goodRunId, deadline), l => l.Message == "good tool");
            Assert.True(envRun.State == RunState.Completed, $"{envRun.State}: {envRun.StateMessage}");
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task CliWorker_WithoutAllowList_RefusesToStart()
    {
        using var deadline = TestDeadline.Create();
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline, hostWorker: false);
        var cli = Path.Combine(RepoPaths.Root, "src", "Flow.Cli", "bin", RepoPaths.Configuration, RepoPaths.TargetFramework, "flow.dll");
        var environment = app.Settings.ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value);

        var none = await ProcessRunner.RunAsync(RepoPaths.DotNetHost, [cli, "worker", "start", "--pool", app.Pool, "--api", app.ApiUrl], new ProcessRunnerOptions { Environment = environment }, deadline);
        var missing = await ProcessRunner.RunAsync(RepoPaths.DotNetHost, [cli, "worker", "start", "--pool", app.Pool, "--api", app.ApiUrl, "--allow", "no-such-program-flow-test"], new ProcessRunnerOptions { Environment = environment }, deadline);

        Assert.Equal(2, none.ExitCode);
        Assert.Contains("--allow", none.Output, StringComparison.Ordinal);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("'no-such-program-flow-test' is not an executable file", missing.Output, StringComparison.Ordinal);
    }

    private static void WriteScript(string path, string body)
    {
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static async Task<string> DeployInAsync(ProcessTestApp app, string name, List<string> command, string workingDirectory, CancellationToken cancellationToken) =>
        (await app.Deployments.ApplyAsync(new DeploymentSpec
        {
            Flow = "script",
            Name = name,
            Pool = app.Pool,
            Entrypoint = new EntrypointSpec { Kind = DeploymentEntrypoint.ProcessKind, Command = command, WorkingDirectory = workingDirectory },
        }, "test", cancellationToken)).Name;
}
