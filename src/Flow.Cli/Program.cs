using System.CommandLine;
using Flow.Cli;

var root = new RootCommand("flow: run, deploy and watch Flow workflows.");
root.Subcommands.Add(WorkerCommand.Create());
foreach (var command in ApiCommands.Create())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync();
