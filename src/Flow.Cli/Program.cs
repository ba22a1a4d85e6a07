using System.CommandLine;
using Flow.Cli;
using Spectre.Console;

// No ANSI escapes when the output is not a terminal (pipes, files, CI logs) or NO_COLOR is set (https://no-color.org).
if (Console.IsOutputRedirected || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")))
{
    AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
    {
        Ansi = AnsiSupport.No,
        ColorSystem = ColorSystemSupport.NoColors,
        Out = new AnsiConsoleOutput(Console.Out),
    });
}

var root = new RootCommand("flow: run, deploy and watch Flow workflows.");
root.Subcommands.Add(WorkerCommand.Create());
foreach (var command in ApiCommands.Create())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync();
