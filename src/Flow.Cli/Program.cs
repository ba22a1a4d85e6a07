using System.CommandLine;

var root = new RootCommand("flow: run, deploy and watch Flow workflows.");
return await root.Parse(args).InvokeAsync();
