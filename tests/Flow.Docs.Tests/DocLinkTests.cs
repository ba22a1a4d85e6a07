using System.Text.RegularExpressions;

namespace Flow.Docs.Tests;

/// <summary>Every relative link of README.md and docs/ leads somewhere, and the code's design references name real sections.</summary>
public sealed partial class DocLinkTests
{
    public static TheoryData<string> MarkdownFiles()
    {
        var data = new TheoryData<string> { "README.md" };
        foreach (var file in Directory.GetFiles(Path.Combine(RepoPaths.Root, "docs"), "*.md").Order(StringComparer.Ordinal))
        {
            data.Add("docs/" + Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(MarkdownFiles))]
    public void RelativeLinks_PointToExistingFilesAndHeadings(string file)
    {
        var path = Path.Combine(RepoPaths.Root, file);
        var broken = new List<string>();
        foreach (var link in Markdown.Links(path))
        {
            if (link.Target.Contains("://", StringComparison.Ordinal) || link.Target.StartsWith("mailto:", StringComparison.Ordinal))
            {
                continue;
            }

            var hash = link.Target.IndexOf('#', StringComparison.Ordinal);
            var target = hash < 0 ? link.Target : link.Target[..hash];
            var anchor = hash < 0 ? null : link.Target[(hash + 1)..];
            var targetPath = target.Length == 0 ? path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, target));
            var fromRoot = Path.GetRelativePath(RepoPaths.Root, targetPath).Replace('\\', '/');
            if (!File.Exists(targetPath) && !Directory.Exists(targetPath))
            {
                broken.Add($"{file}:{link.Line}: {link.Target} (no file {fromRoot})");

                continue;
            }

            if (anchor is not null && targetPath.EndsWith(".md", StringComparison.Ordinal) && !Markdown.Anchors(targetPath).Contains(anchor))
            {
                broken.Add($"{file}:{link.Line}: {link.Target} (no heading #{anchor} in {fromRoot})");
            }
        }

        Assert.True(broken.Count == 0, "Broken links:\n" + string.Join('\n', broken));
    }

    [Fact]
    public void DesignReferencesInCode_NameSectionsOfTheArchitecturePage()
    {
        var architecture = Path.Combine(RepoPaths.Root, "docs", "architecture.md");
        var sections = File.ReadAllLines(architecture)
            .Select(line => SectionHeading().Match(line))
            .Where(m => m.Success)
            .Select(m => m.Groups["n"].Value)
            .ToHashSet(StringComparer.Ordinal);

        var missing = new List<string>();
        foreach (var folder in new[] { "src", "functions", "tests", "samples", "bench" })
        {
            var root = Path.Combine(RepoPaths.Root, folder);
            if (!Directory.Exists(root))
            {
                continue;
            }

            foreach (var source in Directory.EnumerateFiles(root, "*.*", SearchOption.AllDirectories).Where(IsSourceOrDoc))
            {
                var lines = File.ReadAllLines(source);
                for (var i = 0; i < lines.Length; i++)
                {
                    foreach (Match m in DesignReference().Matches(lines[i]))
                    {
                        var where = $"{Path.GetRelativePath(RepoPaths.Root, source)}:{i + 1}: {m.Value}";
                        if (!sections.Contains(m.Groups["n"].Value))
                        {
                            missing.Add(where);
                        }
                    }
                }
            }
        }

        Assert.NotEmpty(sections);
        Assert.True(missing.Count == 0,
            "These design references name no '## N.' section of docs/architecture.md:\n" + string.Join('\n', missing));
    }

    private static bool IsSourceOrDoc(string path)
    {
        var parts = path.Split(Path.DirectorySeparatorChar);
        if (parts.Any(p => p is "bin" or "obj" or "node_modules"))
        {
            return false;
        }

        return Path.GetExtension(path) is ".cs" or ".md";
    }

    [GeneratedRegex(@"^##\s+(?<n>\d+)\.\s")]
    private static partial Regex SectionHeading();

    [GeneratedRegex(@"(?:DESIGN(?:\.md)?|architecture\.md)\s*§\s*(?<n>\d+)")]
    private static partial Regex DesignReference();
}
