using Flow.Functions;
using Flow.Storage.Azure;
using Microsoft.Extensions.Options;

// Your flows: register them here (the samples come with Flow:App:Samples=true).
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

await app.RunAsync();
return Environment.ExitCode;

/// <summary>The app's entry point (partial so tests can name the assembly).</summary>
public partial class Program;
