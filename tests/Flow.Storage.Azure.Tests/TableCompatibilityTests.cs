using System.Text.Json;
using Azure.Data.Tables;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>
/// What Flow writes to its tables (through the Azure .NET SDK its stores use, and through <see cref="AzureFlowStore"/> itself),
/// the official Azure JS SDK reads with the same keys, types and values; and what the JS SDK writes, Flow's SDK reads. This is
/// what keeps Storage Explorer and other systems seeing the same data as Flow.
/// </summary>
public sealed class TableCompatibilityTests(AzuriteFixture azurite) : AzureFlowTestBase(azurite)
{
    private TableClient NewTable() => SdkTables.GetTableClient(Options.TablePrefix + "Compat");

    [Fact]
    public async Task EntitiesWrittenByFlow_AreReadByTheOfficialSdk_WithTheSameTypesAndValues()
    {
        var table = NewTable();
        await table.CreateIfNotExistsAsync(Ct);
        var when = new DateTimeOffset(2026, 11, 21, 6, 0, 0, 123, TimeSpan.Zero);
        await table.AddEntityAsync(new TableEntity("run 'a' é", "task|0001")
        {
            ["Text"] = "hi <&> \"there\" 🚀\n",
            ["Int32"] = 42,
            ["Int64"] = (1L << 53) + 1,
            ["Double"] = 2.5,
            ["WholeDouble"] = 3.0,
            ["Flag"] = true,
            ["When"] = when,
            ["Id"] = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"),
            ["Bytes"] = new byte[] { 0, 1, 2, 254, 255 },
        }, Ct);
        await table.SubmitTransactionAsync(Enumerable.Range(0, 3)
            .Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("batch", $"r{i}") { ["N"] = i })).ToList(), Ct);

        var answer = await AzureSdkPeer.RunAsync("table-read", Azurite.ConnectionString, table.Name, [], Ct);
        var entities = answer.GetProperty("entities").EnumerateArray().ToList();
        Assert.Equal(4, entities.Count);

        var run = entities.Single(e => e.GetProperty("partitionKey").GetString() == "run 'a' é");
        Assert.Equal("task|0001", run.GetProperty("rowKey").GetString());
        var props = run.GetProperty("props");
        AssertProp(props, "Text", "String", "hi <&> \"there\" 🚀\n");
        AssertProp(props, "Int32", "Int32", "42");
        AssertProp(props, "Int64", "Int64", "9007199254740993");
        AssertProp(props, "Double", "Double", "2.5");
        AssertProp(props, "Flag", "Boolean", "true");
        AssertProp(props, "When", "DateTime", "2026-11-21T06:00:00.1230000Z");
        AssertProp(props, "Id", "Guid", "0f8fad5b-d9cb-469f-a165-70867728950e");
        AssertProp(props, "Bytes", "Binary", "AAEC/v8=");
        // The service may send a whole double as the JSON number 3.0 without annotation; JavaScript's JSON.parse cannot tell
        // 3.0 from 3, so the JS SDK may infer Int32 here. The value is what must agree (Flow itself reads it back as Double).
        Assert.Equal(3.0, double.Parse(props.GetProperty("WholeDouble").GetProperty("value").GetString()!, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(3, entities.Count(e => e.GetProperty("partitionKey").GetString() == "batch"));
    }

    [Fact]
    public async Task RowsWrittenByTheFlowStore_AreReadByTheOfficialSdk_AsTheDotNetSdkReadsThem()
    {
        var stored = await CreateAsync(NewRun("run-compat-1"));
        stored = await AppendAsync(stored, "{\"rows\":42,\"text\":\"<&> é 🚀\"}", null);
        await TransitionAsync(stored, RunState.Running);

        var answer = await AzureSdkPeer.RunAsync("table-read", Azurite.ConnectionString, Store.RunsTable.Name, [], Ct);
        var fromJs = answer.GetProperty("entities").EnumerateArray()
            .Where(e => e.GetProperty("partitionKey").GetString() == "run-compat-1")
            .ToDictionary(e => e.GetProperty("rowKey").GetString()!);
        var fromDotNet = await RawRowsAsync(Store.RunsTable, "run-compat-1");

        Assert.Equal(fromDotNet.Select(r => r.RowKey).Order(StringComparer.Ordinal), fromJs.Keys.Order(StringComparer.Ordinal));
        Assert.Contains(fromDotNet, r => r.RowKey == "run");
        foreach (var row in fromDotNet)
        {
            var props = fromJs[row.RowKey].GetProperty("props");
            foreach (var (name, value) in row.Where(p => p.Key is not ("PartitionKey" or "RowKey" or "Timestamp" or "odata.etag")))
            {
                Assert.True(props.TryGetProperty(name, out var prop), $"{row.RowKey}.{name} is missing in what the JS SDK read");
                AssertSameValue($"{row.RowKey}.{name}", value, prop.GetProperty("value").GetString()!);
            }
        }
    }

    [Fact]
    public async Task LargeResult_IsAReadableBlobReferenceInTheRunRow_ForTheOfficialSdk()
    {
        var stored = await CreateAsync(NewRun("run-compat-2"));
        var result = new string('r', 100_000);
        await Store.CommitAsync(new RunCommit { ExpectedVersion = stored.Version, Run = stored.Record with { Result = result } }, Ct);

        var answer = await AzureSdkPeer.RunAsync("table-read", Azurite.ConnectionString, Store.RunsTable.Name, [], Ct);
        var props = answer.GetProperty("entities").EnumerateArray()
            .Single(e => e.GetProperty("partitionKey").GetString() == "run-compat-2" && e.GetProperty("rowKey").GetString() == "run")
            .GetProperty("props");
        Assert.False(props.TryGetProperty("Result", out _));
        var name = props.GetProperty("ResultBlob").GetProperty("value").GetString();
        Assert.Matches("^run-compat-2/run/result-[0-9a-f]{16}\\.json$", name);
        Assert.Equal("100000", props.GetProperty("ResultBytes").GetProperty("value").GetString());
        Assert.Equal(result, (await PayloadContainer.GetBlobClient(name).DownloadContentAsync(Ct)).Value.Content.ToString());
    }

    [Fact]
    public async Task EntitiesWrittenByTheOfficialSdk_AreReadByFlow_WithTheSameTypesAndValues()
    {
        var table = NewTable();
        await table.CreateIfNotExistsAsync(Ct);
        await AzureSdkPeer.RunAsync("table-write", Azurite.ConnectionString, table.Name, [], Ct);

        TableEntity entity = await table.GetEntityAsync<TableEntity>("from-js 'quoted' é", "row 1", cancellationToken: Ct);
        Assert.Equal("hello <&> \"js\" 🚀", entity["Text"]);
        Assert.Equal(42, entity["Int32"]);
        Assert.Equal(9007199254740993L, entity["Int64"]);
        Assert.Equal(2.5, entity["Double"]);
        Assert.Equal(3.0, entity.GetDouble("WholeDouble"));
        Assert.Equal(true, entity["Flag"]);
        Assert.Equal(new DateTimeOffset(2026, 2, 28, 23, 59, 59, 123, TimeSpan.Zero), entity.GetDateTimeOffset("When"));
        Assert.Equal(Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"), entity["Id"]);
        Assert.Equal(new byte[] { 0, 1, 2, 254, 255 }, entity.GetBinary("Bytes"));
        Assert.Equal(7, entity["PlainNumber"]);

        var batch = await RawRowsAsync(table, "js-batch");
        Assert.Equal(["r0", "r1", "r2", "r3", "r4"], batch.Select(e => e.RowKey));
        Assert.Equal([0, 1, 2, 3, 4], batch.Select(e => e.GetInt32("N")!.Value));
    }

    public override async ValueTask DisposeAsync()
    {
        await NewTable().DeleteAsync(CancellationToken.None);
        await base.DisposeAsync();
    }

    // compat/azure-sdk-peer.mjs prints a value it read as String(value) in JavaScript: the wire text of annotated types.
    private static void AssertSameValue(string what, object value, string js)
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        switch (value)
        {
            case DateTimeOffset d:
                Assert.True(DateTimeOffset.Parse(js, culture) == d, $"{what}: JS read {js}, .NET {d:o}");
                break;
            case BinaryData data:
                Assert.Equal(Convert.ToBase64String(data.ToArray()), js);
                break;
            case byte[] bytes:
                Assert.Equal(Convert.ToBase64String(bytes), js);
                break;
            case double number:
                Assert.Equal(number, double.Parse(js, culture));
                break;
            case bool flag:
                Assert.Equal(flag ? "true" : "false", js);
                break;
            case IFormattable formattable:
                Assert.Equal(formattable.ToString(null, culture), js);
                break;
            default:
                Assert.Equal(value.ToString(), js);
                break;
        }
    }

    private static void AssertProp(JsonElement props, string name, string type, string value)
    {
        var prop = props.GetProperty(name);
        var actualType = prop.GetProperty("type").GetString();
        // The service annotates only types JSON cannot carry; strings, booleans and Int32s arrive as JSON values.
        var expectedJsType = type switch { "String" => "string", "Boolean" => "boolean", "Int32" => "number", _ => type };
        Assert.True(actualType == type || actualType == expectedJsType, $"{name}: type {actualType}, expected {type}");
        Assert.Equal(value, prop.GetProperty("value").GetString());
    }
}
