using Flow.Functions;

// Your flows: register them here (the samples come with Flow:App:Samples=true).
//   var app = FlowApp.Build(args, flows => flows.AddFlow<MyFlow>());
var app = FlowApp.Build(args);
await app.RunAsync();

/// <summary>The app's entry point (partial so tests can name the assembly).</summary>
public partial class Program;
