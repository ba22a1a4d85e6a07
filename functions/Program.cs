using System.Globalization;
using System.Reflection;
using Flow.Functions;

var builder = WebApplication.CreateSlimBuilder(args);

// Under the Functions host (custom handler) the host tells us the port; standalone, --urls/ASPNETCORE_URLS decide.
var customHandlerPort = Environment.GetEnvironmentVariable("FUNCTIONS_CUSTOMHANDLER_PORT");
var mode = string.IsNullOrEmpty(customHandlerPort) ? "standalone" : "functions";
if (!string.IsNullOrEmpty(customHandlerPort) && string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    if (!int.TryParse(customHandlerPort, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
    {
        throw new InvalidOperationException($"FUNCTIONS_CUSTOMHANDLER_PORT must be a TCP port, not '{customHandlerPort}'.");
    }

    builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
}

// Quiet console: warnings and errors only (the Functions host and CI capture stdout).
builder.Logging.SetMinimumLevel(LogLevel.Warning);

var version = typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
    ?? typeof(Program).Assembly.GetName().Version?.ToString()
    ?? "0.0.0";

// The storage backend: Flow:Storage:Backend = Azure (default) or Postgres.
builder.Services.AddFlowStorage(builder.Configuration);

var app = builder.Build();

// The Functions host polls GET / until the custom handler answers; standalone it is a liveness probe.
app.MapGet("/", () => Results.Ok(new { service = "flow", status = "ok" }));
app.MapGet("/api/health", () => Results.Ok(new HealthReport("healthy", version, mode)));

await app.RunAsync();

/// <summary>The body of GET /api/health.</summary>
/// <param name="Status">"healthy" when the app serves requests.</param>
/// <param name="Version">The app's informational version.</param>
/// <param name="Mode">"functions" under the Functions host (FUNCTIONS_CUSTOMHANDLER_PORT set), else "standalone".</param>
internal sealed record HealthReport(string Status, string Version, string Mode);

/// <summary>The app's entry point (partial so tests can name the assembly).</summary>
public partial class Program;
