using System.Globalization;

namespace Flow.LocalServices;

/// <summary>
/// A private, in-memory Azurite on free loopback ports, for a test assembly run (Flow.TestSupport's <c>AzuriteFixture</c>) or
/// a benchmark: <see cref="StartAsync"/>, use <see cref="ConnectionString"/>, dispose to stop it.
/// </summary>
/// <remarks>
/// Azurite is the repository's pinned npm package (run <c>npm ci</c> in the repository root), run by <c>node</c> under
/// the child guard, so it is killed even if the test process dies without disposing the fixture.
/// </remarks>
public class LocalAzurite : IAsyncDisposable
{
    /// <summary>The well-known development storage account name.</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>The well-known development storage account key (public, documented by Microsoft).</summary>
    public const string DevelopmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const int StartAttempts = 3;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private ProcessRunner? _azurite;

    /// <summary>The storage account name.</summary>
    public string AccountName => DevelopmentAccountName;

    /// <summary>The storage account key (base64).</summary>
    public string AccountKey => DevelopmentAccountKey;

    /// <summary>Blob port on 127.0.0.1.</summary>
    public int BlobPort { get; private set; }

    /// <summary>Queue port on 127.0.0.1.</summary>
    public int QueuePort { get; private set; }

    /// <summary>Table port on 127.0.0.1.</summary>
    public int TablePort { get; private set; }

    /// <summary>e.g. http://127.0.0.1:P/devstoreaccount1</summary>
    public Uri BlobEndpoint => Endpoint(BlobPort);

    /// <summary>e.g. http://127.0.0.1:P/devstoreaccount1</summary>
    public Uri QueueEndpoint => Endpoint(QueuePort);

    /// <summary>e.g. http://127.0.0.1:P/devstoreaccount1</summary>
    public Uri TableEndpoint => Endpoint(TablePort);

    /// <summary>The full explicit connection string (account, key and the three endpoints).</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint={BlobEndpoint};QueueEndpoint={QueueEndpoint};TableEndpoint={TableEndpoint};";

    /// <summary>Azurite's captured console output so far (for diagnosing a failing test).</summary>
    public string Output => _azurite?.Output ?? string.Empty;

    /// <summary>Whether the Azurite process is still running.</summary>
    public bool IsRunning => _azurite is { HasExited: false };

    /// <summary>Starts Azurite and waits until its ports accept connections (retrying on new ports if one was taken).</summary>
    /// <param name="cancellation">Cancels the start.</param>
    /// <returns>A task.</returns>
    /// <exception cref="InvalidOperationException">node or node_modules/azurite is missing, or Azurite did not start.</exception>
    public async Task StartAsync(CancellationToken cancellation)
    {
        var node = NodeTools.NodePath;
        var script = NodeTools.AzuriteScript;
        _ = NodeTools.ChildGuardScript;

        for (var attempt = 1; ; attempt++)
        {
            var ports = FreePorts.Next(3);
            (BlobPort, QueuePort, TablePort) = (ports[0], ports[1], ports[2]);
            var runner = ProcessRunner.Start(node, Arguments(script), new ProcessRunnerOptions
            {
                GuardLifetime = true,
                WorkingDirectory = RepoPaths.Root,
            });

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            deadline.CancelAfter(StartTimeout);
            try
            {
                while (!runner.HasExited && !await AllPortsAcceptAsync(deadline.Token))
                {
                    await Task.Delay(PollInterval, deadline.Token);
                }
            }
            catch (OperationCanceledException e)
            {
                var output = runner.Output;
                await runner.DisposeAsync();
                throw new InvalidOperationException(
                    $"Azurite did not accept connections within {StartTimeout.TotalSeconds} s ({runner.CommandLine}). Output:\n{output}", e);
            }

            if (!runner.HasExited)
            {
                _azurite = runner;
                return;
            }

            await runner.WaitForExitAsync(cancellation);
            var exitOutput = runner.Output;
            await runner.DisposeAsync();
            if (attempt < StartAttempts && exitOutput.Contains("EADDRINUSE", StringComparison.Ordinal))
            {
                continue; // Someone took one of the ports between choosing and binding: choose again.
            }

            throw new InvalidOperationException(
                $"Azurite exited with code {runner.ExitCode} during startup ({runner.CommandLine}). Output:\n{exitOutput}");
        }
    }

    /// <summary>Stops Azurite (its whole process tree) and waits for it to exit.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
            _azurite = null;
        }
    }

    private static Uri Endpoint(int port) =>
        new(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/{DevelopmentAccountName}"));

    private List<string> Arguments(string script) =>
    [
        script,
        "--inMemoryPersistence", "--silent", "--skipApiVersionCheck", "--disableProductStyleUrl", "--disableTelemetry",
        "--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(CultureInfo.InvariantCulture),
        "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(CultureInfo.InvariantCulture),
        "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(CultureInfo.InvariantCulture),
    ];

    private async Task<bool> AllPortsAcceptAsync(CancellationToken cancellationToken) =>
        await FreePorts.AcceptsConnectionsAsync(TablePort, cancellationToken)
        && await FreePorts.AcceptsConnectionsAsync(QueuePort, cancellationToken)
        && await FreePorts.AcceptsConnectionsAsync(BlobPort, cancellationToken);
}
