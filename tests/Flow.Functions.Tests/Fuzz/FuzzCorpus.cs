using System.Text;
using System.Text.Json.Nodes;

namespace Flow.Functions.Tests.Fuzz;

/// <summary>One malformed request: where it goes, what it carries, and whether it may change control-plane state.</summary>
/// <param name="Kind">What kind of malformation (for the counts).</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The path and query, already URL-encoded.</param>
/// <param name="Body">The body bytes (may be invalid UTF-8), or null for none.</param>
/// <param name="ContentType">The content type of the body.</param>
/// <param name="Area"><c>control</c>, <c>runs</c> or <c>process</c>.</param>
/// <param name="Mutates">Whether a success may write; a 4xx must write nothing.</param>
/// <param name="Headers">Extra headers.</param>
internal sealed record FuzzRequest(string Kind, HttpMethod Method, string Path, byte[]? Body, string ContentType, string Area, bool Mutates, IReadOnlyDictionary<string, string>? Headers = null);

/// <summary>
/// Seeded generators of malformed input: invalid and truncated JSON, wrong types, nulls, huge and deeply nested documents,
/// control characters and path tricks in names, oversize bodies and messages, YAML anchors and aliases. The same seed gives
/// the same inputs, so a failure can be replayed.
/// </summary>
internal static class FuzzCorpus
{
    /// <summary>Names that must be refused (or not found) wherever a name goes in a path; URL-encoded.</summary>
    public static readonly string[] PathTricks =
    [
        "..", "%2e%2e", "..%2F..%2Fetc%2Fpasswd", "a%00b", "a%0Ab", "a%0D%0AX-Injected:%201", "%E2%80%AE", new string('a', 300), "a%20b", "%25", "con",
        "a%3Bb", "a'b", "%C0%AF", "%FF%FE", "%F0%9F%98%80", "a%2Fb", "-", "_", ".", "A", "%7B%7D", "%5B%5D", "null", "0", "a%09b", "%5C..%5C",
    ];

    /// <summary>Values for numeric query parameters that are not numbers in range.</summary>
    public static readonly string[] BadNumbers = ["abc", "-1", "0", "1e3", "99999999999", "", "%00", "1.5", "0x10", "%E2%88%9E", "NaN", "1%2C2", "+", " 5"];

    /// <summary>Values for other query parameters.</summary>
    public static readonly string[] BadTexts = ["Sleeping", "1", "%00", "x", "9999-99-99", "2026-13-45T99:99:99Z", new string('z', 3000), "%0A", "'; DROP TABLE runs; --", "%FF"];

    private static readonly JsonNode?[] WrongValues =
    [
        JsonValue.Create(123), JsonValue.Create("5"), JsonValue.Create(true), null, new JsonArray(), new JsonObject(), JsonValue.Create(new string('x', 5000)),
        JsonValue.Create(-1), JsonValue.Create(1e308), JsonValue.Create("\u0000\u0007\u001b[31m"), JsonValue.Create("P1000000Y"), JsonValue.Create("0 0 30 2 *"),
        JsonValue.Create("../../etc/passwd"), JsonValue.Create(long.MaxValue), JsonValue.Create(-0.0001), new JsonArray(JsonValue.Create(1), null), JsonValue.Create("\u202Eevil"),
    ];

    /// <summary>A malformed variant of a valid JSON document; the kind says which.</summary>
    /// <param name="random">The seeded random.</param>
    /// <param name="valid">A valid JSON object for the endpoint.</param>
    /// <param name="maxBodyBytes">The app's body limit (oversize bodies exceed it).</param>
    /// <returns>The kind and the bytes.</returns>
    public static (string Kind, byte[] Body) MalformedJson(Random random, string valid, int maxBodyBytes)
    {
        switch (random.Next(16))
        {
            case 0:
                return ("truncated-json", Utf8(valid[..random.Next(1, valid.Length)]));
            case 1:
                return ("empty", []);
            case 2:
                return ("not-an-object", Utf8(random.GetItems<string>(["null", "[]", "5", "\"x\"", "true", "[1,2,3]", "-0", "1e999", "{}{}", "\"\\u0000\""], 1)[0]));
            case 3 or 4 or 5:
                return ("wrong-type", Utf8(ReplaceField(random, valid, WrongValues[random.Next(WrongValues.Length)])));
            case 6:
                return ("null-field", Utf8(ReplaceField(random, valid, null)));
            case 7:
                var depth = random.Next(65, 400);
                var (open, close) = random.Next(2) == 0 ? ("[", "]") : ("{\"a\":", "}");
                return ("deep-json", Utf8(InsertIntoFirstField(valid, string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth)))));
            case 8:
                return ("control-chars", Utf8(valid.Insert(valid.IndexOf(':', StringComparison.Ordinal) + 1, "\"a\u0001\u0000\u001f\"\u0000,")));
            case 9:
                var first = JsonNode.Parse(valid)!.AsObject().First();
                return ("duplicate-key", Utf8("{\"" + first.Key + "\":" + (first.Value?.ToJsonString() ?? "null") + "," + valid[1..]));
            case 10:
                return ("oversize-body", Utf8("{\"description\":\"" + new string('x', maxBodyBytes + random.Next(1, 4096)) + "\"}"));
            case 11:
                var bytes = new byte[random.Next(1, 200)];
                random.NextBytes(bytes);
                return ("random-bytes", bytes);
            case 12:
                var invalid = Utf8(valid).ToList();
                invalid.InsertRange(Math.Min(invalid.Count - 1, 3), new byte[] { 0xC0, 0xAF, 0xFF, 0xFE });
                return ("invalid-utf8", [.. invalid]);
            case 13:
                return ("unknown-field", Utf8(valid.Insert(1, "\"zzz\":1,")));
            case 14:
                return ("numbers-as-strings", Utf8(System.Text.RegularExpressions.Regex.Replace(valid, ":(-?[0-9]+)([,}])", ":\"$1\"$2")));
            default:
                return ("huge-string", Utf8(ReplaceField(random, valid, JsonValue.Create(new string('é', Math.Min(20_000, maxBodyBytes / 4))))));
        }
    }

    /// <summary>A malformed deployments file (YAML or JSON): aliases and anchors, deep nesting, tags, duplicate keys, bad scalars.</summary>
    /// <param name="random">The seeded random.</param>
    /// <param name="maxBodyBytes">The app's body limit.</param>
    /// <returns>The kind and the text.</returns>
    public static (string Kind, byte[] Body) MalformedYaml(Random random, int maxBodyBytes)
    {
        switch (random.Next(12))
        {
            case 0:
                return ("yaml-alias-bomb", Utf8(InputLimitTests.AliasBomb()));
            case 1:
                return ("yaml-anchor", Utf8("workPools:\n  - &p {name: fuzz-a}\ndeployments:\n  - flow: greet\n    name: a\n    parameters: {name: x}\n    pool: fuzz-a\n    tags: *p\n"));
            case 2:
                var depth = random.Next(65, 300);
                return ("yaml-deep", Utf8("deployments:\n  - flow: greet\n    name: a\n    parameters: " + new string('[', depth) + new string(']', depth) + "\n"));
            case 3:
                return ("yaml-tag", Utf8("deployments:\n  - !!python/object:os.system {flow: greet, name: a}\n"));
            case 4:
                return ("yaml-duplicate-key", Utf8("deployments:\n  - flow: greet\n    flow: slow\n    name: a\n"));
            case 5:
                return ("yaml-truncated", Utf8("deployments:\n  - flow: greet\n    name: [a, b\n"));
            case 6:
                return ("yaml-half-valid", Utf8("workPools:\n  - name: fuzz-half\ndeployments:\n  - flow: greet\n    name: ok\n    pool: fuzz-half\n    parameters: {name: x}\n  - flow: greet\n    name: bad\n    pool: fuzz-half\n    concurrencyLimit: \"" + random.Next(1, 9) + "\"\n"));
            case 7:
                return ("yaml-wrong-types", Utf8("deployments: {flow: greet}\nworkPools: 5\n"));
            case 8:
                return ("yaml-control-chars", Utf8("deployments:\n  - flow: \"gr\\u0000eet\"\n    name: \"a\\nb\"\n"));
            case 9:
                return ("oversize-body", Utf8("deployments:\n" + string.Concat(Enumerable.Repeat("  - {flow: greet, name: a}\n", maxBodyBytes / 20))));
            case 10:
                return ("yaml-never-fires", Utf8("deployments:\n  - flow: greet\n    name: a\n    parameters: {name: x}\n    schedules:\n      - cron: \"0 0 31 4 *\"\n"));
            default:
                return ("yaml-interval-overflow", Utf8("deployments:\n  - flow: greet\n    name: a\n    parameters: {name: x}\n    schedules:\n      - interval: P1000000Y\n"));
        }
    }

    /// <summary>A malformed run-request message (text; the sender may base64 it).</summary>
    /// <param name="random">The seeded random.</param>
    /// <returns>The kind and the text.</returns>
    public static (string Kind, string Text) MalformedRunRequest(Random random)
    {
        const string valid = """{"deployment":"greet/base","parameters":{"name":"q","excitement":1},"idempotencyKey":"k","scheduledTime":"2030-01-01T00:00:00Z","tags":{"a":"b"}}""";
        switch (random.Next(10))
        {
            case 0:
                return ("oversize-message", $$$"""{"deployment":"greet/nope","parameters":{"name":"{{{new string('ä', random.Next(17_000, 30_000))}}}"}}""");
            case 1:
                return ("truncated-json", valid[..random.Next(1, valid.Length)]);
            case 2:
                return ("not-an-object", random.GetItems<string>(["null", "[]", "5", "\"x\"", "true", "[1,2,3]", "", " ", "{}"], 1)[0]);
            case 3 or 4:
                return ("wrong-type", ReplaceField(random, valid, WrongValues[random.Next(WrongValues.Length)]));
            case 5:
                return ("deep-json", "{\"deployment\":\"greet/base\",\"parameters\":" + new string('[', 100) + new string(']', 100) + "}");
            case 6:
                return ("duplicate-key", "{\"deployment\":\"greet/base\",\"deployment\":\"greet/other\"}");
            case 7:
                return ("path-trick", "{\"deployment\":\"" + random.GetItems<string>(["../../x", "greet/../base", "greet/a\\u0000b", "greet", "/", "greet/" + new string('a', 500)], 1)[0] + "\"}");
            case 8:
                return ("numbers-as-strings", "{\"deployment\":\"greet/base\",\"parameters\":{\"name\":\"q\",\"excitement\":\"5\"}}");
            default:
                return ("missing-required", "{\"deployment\":\"greet/base\",\"parameters\":{\"excitement\":3}}");
        }
    }

    private static string ReplaceField(Random random, string valid, JsonNode? value)
    {
        var obj = JsonNode.Parse(valid)!.AsObject();
        var keys = obj.Select(p => p.Key).ToList();
        var key = keys[random.Next(keys.Count)];

        // one level down when the field holds an object, so nested fields (parameters.name, schedules[0].cron) are hit too
        if (obj[key] is JsonObject inner && inner.Count > 0 && random.Next(2) == 0)
        {
            var innerKeys = inner.Select(p => p.Key).ToList();
            inner[innerKeys[random.Next(innerKeys.Count)]] = value?.DeepClone();
        }
        else if (obj[key] is JsonArray { Count: > 0 } array && array[0] is JsonObject element && element.Count > 0 && random.Next(2) == 0)
        {
            var elementKeys = element.Select(p => p.Key).ToList();
            element[elementKeys[random.Next(elementKeys.Count)]] = value?.DeepClone();
        }
        else
        {
            obj[key] = value?.DeepClone();
        }

        return obj.ToJsonString();
    }

    private static string InsertIntoFirstField(string valid, string value)
    {
        var obj = JsonNode.Parse(valid)!.AsObject();
        var key = obj.First().Key;
        return "{\"" + key + "\":" + value + "}";
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
