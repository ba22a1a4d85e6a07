using Flow.Functions;
using Flow.Storage.Azure;
using Flow.Storage.Postgres;
using Microsoft.Extensions.Options;

// Your flows: register them here, or keep them in their own project and name its assembly in Flow:App:FlowAssemblies.
//   var app = FlowApp.Build(args, flows => flows.AddFlow<MyFlow>());
WebApplication app;
try
{
    app = FlowApp.Build(args);
}
catch (Exception e) when (e is StorageConfigurationException or InvalidOperationException or OptionsValidationException)
{
    await Console.Error.WriteLineAsync("flow: error: " + e.Message);
    return 2;
}

try
{
    await app.RunAsync();
}
catch (Exception e) when (e is PostgresStorageException or OptionsValidationException or ArgumentException)
{
    // The schema is migrated at start: a missing, malformed or unreachable database stops the app, naming the setting;
    // so does an invalid setting read when the services start (e.g. a process worker without an allow-list).
    await Console.Error.WriteLineAsync("flow: error: " + e.Message);
    return 2;
}

return Environment.ExitCode;

/// <summary>The app's entry point (partial so tests can name the assembly).</summary>
public partial class Program;
