using System.Text.Json.Nodes;
using Flow.ControlPlane.Templates;
using Flow.Engine.Events;

namespace Flow.ControlPlane.Tests.Templates;

public sealed class EventTemplateTests
{
    private static readonly FlowEvent Failed = new()
    {
        Id = "run-1.t3",
        OccurredAt = new DateTimeOffset(2026, 12, 6, 21, 0, 0, TimeSpan.Zero),
        Kind = "flow-run.Failed",
        Resource = new EventResource("flow-run/run-1", Labels: new Dictionary<string, string> { ["flow"] = "daily-etl", ["attempt"] = "2" }),
        Related = [new EventResource("deployment/daily-etl/daily", "deployment"), new EventResource("tag/nightly", "tag"), new EventResource("tag/etl", "tag")],
        Payload = """{"message":"boom","rows":120,"nested":{"ok":false}}""",
    };

    [Fact]
    public void Render_WholeStringPlaceholder_KeepsTheValuesJsonType()
    {
        var template = JsonNode.Parse("""{"rows":"{{ event.payload.rows }}","nested":"{{event.payload.nested}}","missing":"{{ event.payload.nope }}"}""");

        var rendered = EventTemplate.Render(template, EventTemplate.ContextFor(Failed))!.AsObject();

        Assert.Equal(120, rendered["rows"]!.GetValue<int>());
        Assert.False(rendered["nested"]!["ok"]!.GetValue<bool>());
        Assert.Null(rendered["missing"]);
    }

    [Fact]
    public void Render_PlaceholdersInsideText_BecomeTextAndMissingBecomesEmpty()
    {
        var template = JsonValue.Create("Run {{ event.resource.id }} of {{ event.resource.labels.flow }} failed ({{ event.payload.rows }} rows{{ event.nope }}): {{ event.payload.nested }}");

        var rendered = EventTemplate.Render(template, EventTemplate.ContextFor(Failed))!.GetValue<string>();

        Assert.Equal("""Run flow-run/run-1 of daily-etl failed (120 rows): {"ok":false}""", rendered);
    }

    [Fact]
    public void Render_IndexesAndRoles_FindRelatedResources()
    {
        var context = EventTemplate.ContextFor(Failed);

        Assert.Equal("deployment/daily-etl/daily", EventTemplate.RenderText("{{ event.roles.deployment }}", context));
        Assert.Equal("tag/etl", EventTemplate.RenderText("{{ event.related[2].id }}", context));
        Assert.Equal("tag/nightly", EventTemplate.RenderText("{{ event.roles.tag }}", context));
        Assert.Equal(string.Empty, EventTemplate.RenderText("{{ event.related[9].id }}", context));
    }

    [Fact]
    public void Render_DoesNotChangeTheTemplate()
    {
        var template = JsonNode.Parse("""{"a":["{{ event.kind }}", 1, true, null]}""");
        var before = template!.ToJsonString();

        var rendered = EventTemplate.Render(template, EventTemplate.ContextFor(Failed));

        Assert.Equal(before, template.ToJsonString());
        Assert.Equal("""{"a":["flow-run.Failed",1,true,null]}""", rendered!.ToJsonString());
    }

    [Theory]
    [InlineData("{{ event.kind", "without a closing")]
    [InlineData("{{ }}", "empty placeholder")]
    [InlineData("{{ event..kind }}", "misplaced '.'")]
    [InlineData("{{ event.related[x] }}", "malformed index")]
    [InlineData("{{ event kind }}", "character other than")]
    [InlineData("{{ .event }}", "misplaced '.'")]
    public void Validate_MalformedPlaceholder_NamesTheField(string text, string expected)
    {
        var template = new JsonObject { ["body"] = new JsonObject { ["text"] = text } };

        var error = Assert.Throws<ArgumentException>(() => EventTemplate.Validate(template, "actions[0]"));

        Assert.Equal("actions[0].body.text", error.ParamName);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_TooManyPlaceholdersOrTooLongText_IsRefused()
    {
        var context = new JsonObject { ["big"] = new string('x', 40_000) };

        Assert.Throws<ArgumentException>(() => EventTemplate.RenderText(string.Concat(Enumerable.Repeat("{{ big }}", 2)), context));
        Assert.Throws<ArgumentException>(() => EventTemplate.ValidateText(string.Concat(Enumerable.Repeat("{{ a }}", EventTemplate.MaxPlaceholdersPerString + 1)), "t"));
    }

    [Fact]
    public void Render_TemplateNestedTooDeep_IsRefused()
    {
        JsonNode node = JsonValue.Create("x");
        for (var i = 0; i <= EventTemplate.MaxDepth + 1; i++)
        {
            node = new JsonArray(node);
        }

        Assert.Throws<ArgumentException>(() => EventTemplate.Render(node, new JsonObject()));
        Assert.Throws<ArgumentException>(() => EventTemplate.Validate(node, "t"));
    }
}
