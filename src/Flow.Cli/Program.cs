using System.CommandLine;
using Flow.Cli;

var root = new RootCommand("flow: run, deploy and watch Flow workflows.");
root.Subcommands.Add(WorkerCommand.Create());
return await root.Parse(args).InvokeAsync();
