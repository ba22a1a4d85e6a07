using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Flow.Docs.Tests;

/// <summary>
/// Compiles C# files as the app's project compiles them: an executable with nullable on, the latest language version,
/// the Web SDK's implicit usings, and references to the running test's assemblies (the framework, ASP.NET Core, the app,
/// the engine and the SDK).
/// </summary>
internal static class SnippetCompiler
{
    /// <summary>
    /// Warnings that come from the way the test compiles, not from the code a user pastes: the app's own
    /// <c>Program</c> class is both in the compiled Program.cs and in the referenced Flow.Functions.dll.
    /// </summary>
    private static readonly ImmutableDictionary<string, ReportDiagnostic> HarnessOnly =
        ImmutableDictionary<string, ReportDiagnostic>.Empty.Add("CS0436", ReportDiagnostic.Suppress);

    /// <summary>Compiles the files and returns every error and warning, formatted as the compiler prints them.</summary>
    /// <param name="files">File name (for messages) and source text.</param>
    public static IReadOnlyList<string> Compile(IReadOnlyList<(string Name, string Source)> files)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = files.Select(f => CSharpSyntaxTree.ParseText(f.Source, parse, f.Name)).ToList();
        var options = new CSharpCompilationOptions(OutputKind.ConsoleApplication)
            .WithNullableContextOptions(NullableContextOptions.Enable)
            .WithSpecificDiagnosticOptions(HarnessOnly);
        var compilation = CSharpCompilation.Create("ReadmeExample", trees, References(), options);
        using var output = new MemoryStream();
        var result = compilation.Emit(output);
        return result.Diagnostics
            .Where(d => d.Severity is DiagnosticSeverity.Error or DiagnosticSeverity.Warning)
            .Select(d => d.ToString())
            .ToList();
    }

    private static List<MetadataReference> References()
    {
        var paths = (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return paths
            .Where(p => !Path.GetFileName(p).StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToList();
    }
}
