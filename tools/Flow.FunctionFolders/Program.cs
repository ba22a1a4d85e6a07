using Flow.FunctionFolders;

return FunctionFolderWriter.Run(args, Console.Out, Console.Error);
