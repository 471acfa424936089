// The runner's command line: `dotnet run -c Release --project lib/Shrink.Notebooks -- run <notebook-or-folder>... [options]`.
return await Shrink.Notebooks.Cli.NotebookCli.RunAsync(args);
