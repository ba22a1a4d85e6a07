using System.Text;
using System.Text.RegularExpressions;

namespace Flow.Docs.Tests;

/// <summary>Reads Markdown the way GitHub renders it, as far as these tests need: links, headings, fenced code blocks.</summary>
internal static partial class Markdown
{
    /// <summary>One link of a Markdown file.</summary>
    internal sealed record Link(string File, int Line, string Target);

    /// <summary>One fenced code block and the HTML comment right before it, if any.</summary>
    internal sealed record CodeBlock(string File, int Line, string Language, string? Marker, string Code);

    /// <summary>The links of a file, outside fenced code blocks and inline code.</summary>
    public static IReadOnlyList<Link> Links(string path)
    {
        var links = new List<Link>();
        var inFence = false;
        var lines = File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            if (inFence)
            {
                continue;
            }

            var text = InlineCode().Replace(lines[i], string.Empty);
            foreach (Match m in LinkPattern().Matches(text))
            {
                links.Add(new Link(path, i + 1, m.Groups["target"].Value));
            }
        }

        return links;
    }

    /// <summary>The anchors GitHub gives the headings of a file (lower case, punctuation dropped, spaces as hyphens).</summary>
    public static IReadOnlySet<string> Anchors(string path)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var inFence = false;
        foreach (var line in File.ReadAllLines(path))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            var heading = HeadingPattern().Match(line);
            if (inFence || !heading.Success)
            {
                continue;
            }

            var slug = Slug(heading.Groups["text"].Value);
            var seen = counts.GetValueOrDefault(slug);
            counts[slug] = seen + 1;
            anchors.Add(seen == 0 ? slug : $"{slug}-{seen}");
        }

        return anchors;
    }

    /// <summary>GitHub's heading anchor: lower case; letters, digits, '-' and '_' kept; spaces become '-'; the rest dropped.</summary>
    public static string Slug(string heading)
    {
        var slug = new StringBuilder(heading.Length);
        foreach (var c in heading.Trim().ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_')
            {
                slug.Append(c);
            }
            else if (c == ' ')
            {
                slug.Append('-');
            }
        }

        return slug.ToString();
    }

    /// <summary>The fenced code blocks of a file, each with the <c>&lt;!-- … --&gt;</c> comment on the line before it.</summary>
    public static IReadOnlyList<CodeBlock> CodeBlocks(string path)
    {
        var blocks = new List<CodeBlock>();
        var lines = File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            var open = lines[i].TrimStart();
            if (!open.StartsWith("```", StringComparison.Ordinal))
            {
                continue;
            }

            var language = open[3..].Trim();
            var previous = i > 0 ? CommentPattern().Match(lines[i - 1].Trim()) : Match.Empty;
            var start = i + 1;
            var end = start;
            while (end < lines.Length && !lines[end].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                end++;
            }

            var code = string.Join('\n', lines[start..Math.Min(end, lines.Length)]);
            blocks.Add(new CodeBlock(path, i + 1, language, previous.Success ? previous.Groups["text"].Value.Trim() : null, code));
            i = end;
        }

        return blocks;
    }

    [GeneratedRegex(@"\[[^\]]*\]\((?<target>[^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex LinkPattern();

    [GeneratedRegex("`[^`]*`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.+?)\s*#*\s*$")]
    private static partial Regex HeadingPattern();

    [GeneratedRegex(@"^<!--(?<text>.*)-->$")]
    private static partial Regex CommentPattern();
}
