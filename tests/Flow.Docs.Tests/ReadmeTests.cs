
namespace Flow.Docs.Tests;

/// <summary>The README stays short, and its C# example compiles where it tells the reader to put it.</summary>
public sealed class ReadmeTests
{
    private const int MaxReadmeBytes = 15 * 1024;
    private const string MarkerPrefix = "readme-compile:";
    private const string ProgramFile = "functions/Program.cs";

    private static string Readme => Path.Combine(RepoPaths.Root, "README.md");

    [Fact]
    public void Readme_IsAtMost15KiB()
    {
        var bytes = new FileInfo(Readme).Length;
        Assert.True(bytes <= MaxReadmeBytes,
            $"README.md is {bytes} bytes; keep it at most {MaxReadmeBytes} (move details into docs/ and link them).");
    }

    [Fact]
    public void ReadmeCSharpBlocks_AreAllMarkedForCompilation()
    {
        var unmarked = CSharpBlocks()
            .Where(b => b.Marker is null || !b.Marker.StartsWith(MarkerPrefix, StringComparison.Ordinal))
            .Select(b => $"README.md:{b.Line}")
            .ToList();
        Assert.True(unmarked.Count == 0,
            $"Every ```csharp block of README.md must be compiled by this test: put <!-- {MarkerPrefix} <file> --> on the line "
            + $"before it (the file of the app it belongs in). Unmarked: {string.Join(", ", unmarked)}");
    }

    [Fact]
    public void ReadmeExample_CompilesInTheAppProject()
    {
        var blocks = CSharpBlocks().Where(b => b.Marker?.StartsWith(MarkerPrefix, StringComparison.Ordinal) == true).ToList();
        Assert.NotEmpty(blocks);

        var files = new List<(string Name, string Source)>();
        var programEdits = new List<string>();
        foreach (var block in blocks)
        {
            var target = block.Marker![MarkerPrefix.Length..].Trim();
            if (target == ProgramFile)
            {
                programEdits.Add(block.Code);
            }
            else
            {
                files.Add((target, block.Code));
            }
        }

        // The README shows the one statement of functions/Program.cs that changes: it replaces the line that builds the app.
        var program = File.ReadAllLines(Path.Combine(RepoPaths.Root, ProgramFile)).ToList();
        foreach (var edit in programEdits)
        {
            var buildLines = program.Select((line, i) => (line, i))
                .Where(x => x.line.Contains("FlowApp.Build(", StringComparison.Ordinal) && !x.line.TrimStart().StartsWith("//", StringComparison.Ordinal))
                .ToList();
            Assert.True(buildLines.Count == 1,
                $"README.md tells the reader to change the line of {ProgramFile} that calls FlowApp.Build(...), but that file has "
                + $"{buildLines.Count} such lines. Update the README's example to match {ProgramFile}.");
            program[buildLines[0].i] = edit;
        }

        files.Add((ProgramFile, string.Join('\n', program)));
        files.Add(("GlobalUsings.g.cs", AppGlobalUsings()));

        var diagnostics = SnippetCompiler.Compile(files);
        Assert.True(diagnostics.Count == 0,
            "The README's C# example does not compile in the app's project:\n" + string.Join('\n', diagnostics));
    }

    /// <summary>The implicit global usings the app's project compiles with (written by the SDK into its obj folder).</summary>
    private static string AppGlobalUsings()
    {
        var path = Path.Combine(RepoPaths.Root, "functions", "obj", RepoPaths.Configuration, RepoPaths.TargetFramework,
            "Flow.Functions.GlobalUsings.g.cs");
        Assert.True(File.Exists(path), $"{path} is missing: build functions/Flow.Functions.csproj -c {RepoPaths.Configuration} first.");
        return File.ReadAllText(path);
    }

    private static List<Markdown.CodeBlock> CSharpBlocks() =>
        Markdown.CodeBlocks(Readme).Where(b => b.Language is "csharp" or "cs" or "c#").ToList();
}
