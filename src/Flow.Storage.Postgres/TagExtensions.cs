namespace Flow.Storage.Postgres;

/// <summary>Tag dictionaries as the records hold them.</summary>
internal static class TagExtensions
{
    public static IReadOnlyDictionary<string, string> ToFrozenTags(this Dictionary<string, string> tags) =>
        System.Collections.Frozen.FrozenDictionary.ToFrozenDictionary(tags, StringComparer.Ordinal);
}
