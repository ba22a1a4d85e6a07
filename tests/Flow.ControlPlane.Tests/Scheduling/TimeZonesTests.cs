using Flow.ControlPlane.Scheduling;

namespace Flow.ControlPlane.Tests.Scheduling;

public sealed class TimeZonesTests
{
    [Theory]
    [InlineData("UTC")]
    [InlineData("Etc/UTC")]
    [InlineData("Europe/London")]
    [InlineData("America/New_York")]
    [InlineData("Australia/Lord_Howe")]
    [InlineData("Australia/Sydney")]
    [InlineData("Pacific/Auckland")]
    [InlineData("America/Santiago")]
    [InlineData("Asia/Kolkata")]
    public void TryFind_IanaId_FindsTheZone(string id)
    {
        Assert.True(TimeZones.TryFind(id, out var zone, out var error));
        Assert.Null(error);
        Assert.Equal(id, zone.Id);
    }

    [Fact]
    public void TryFind_WindowsId_ReturnsTheIanaZone()
    {
        Assert.True(TimeZones.TryFind("GMT Standard Time", out var zone, out _));
        Assert.Equal("Europe/London", zone.Id);
    }

    [Theory]
    [InlineData("Mars/Olympus_Mons")]
    [InlineData("Europe/Londn")]
    [InlineData("../../etc/passwd")]
    [InlineData("America/New_York\u0000")]
    public void TryFind_UnknownId_ErrorNamesTheId(string id)
    {
        Assert.False(TimeZones.TryFind(id, out var zone, out var error));
        Assert.Null(zone);
        Assert.StartsWith($"Unknown time zone '{id}'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void TryFind_Empty_SaysItIsEmpty(string id)
    {
        Assert.False(TimeZones.TryFind(id, out _, out var error));
        Assert.Equal("The time zone is empty; use an IANA id such as 'Europe/London' or 'UTC'.", error);
    }
}
