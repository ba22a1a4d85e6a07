using System.Text;
using System.Text.Json;
using Flow.Storage.Conformance;

namespace Flow.Engine.Tests.Storage;

/// <summary>The conformance suite's payload generator makes what it promises.</summary>
public sealed class PayloadsTests
{
    [Theory]
    [InlineData(64)]
    [InlineData(1000)]
    [InlineData(65_537)]
    [InlineData(1_048_576)]
    public void Json_AnySize_IsValidJsonOfExactlyThatManyUtf8Bytes(int bytes)
    {
        var json = Payloads.Json(bytes, seed: 3);

        Assert.Equal(bytes, Encoding.UTF8.GetByteCount(json));
        using var document = JsonDocument.Parse(json);
        Assert.Equal(3, document.RootElement.GetProperty("seed").GetInt32());
    }

    [Fact]
    public void Text_Large_StraddlesEveryKilobyteBoundaryWithAMultiByteCharacter()
    {
        var text = Payloads.Text(300_000, seed: 1);

        Assert.Equal(300_000, Encoding.UTF8.GetByteCount(text));
        for (var chars = 1024; chars < text.Length; chars += 1024)
        {
            Assert.True(char.IsHighSurrogate(text[chars - 1]), $"No surrogate pair across character {chars}.");
        }

        var utf8 = Encoding.UTF8.GetBytes(text);
        for (var offset = 1024; offset < utf8.Length; offset += 1024)
        {
            Assert.True((utf8[offset] & 0xC0) == 0x80, $"No multi-byte character across byte {offset}.");
        }
    }

    [Fact]
    public void Text_DifferentSeeds_DifferButAreDeterministic()
    {
        Assert.Equal(Payloads.Text(5000, 1), Payloads.Text(5000, 1));
        Assert.NotEqual(Payloads.Text(5000, 1), Payloads.Text(5000, 2));
    }
}
