using System.Diagnostics.CodeAnalysis;

namespace Flow.ControlPlane.Scheduling;

/// <summary>Looks up the time zones schedules are written in.</summary>
public static class TimeZones
{
    private const int MaxIdLength = 64;

    /// <summary>
    /// Finds a time zone by IANA id (<c>Europe/London</c>, <c>America/New_York</c>,
    /// <c>UTC</c>, <c>Etc/UTC</c>), using the machine's time-zone database. A Windows id
    /// (<c>Eastern Standard Time</c>) is accepted too and converted to its IANA zone, so the returned
    /// zone's <see cref="TimeZoneInfo.Id"/> is always the IANA id where one exists.
    /// </summary>
    /// <param name="ianaId">The zone id.</param>
    /// <param name="zone">The zone, when found.</param>
    /// <param name="error">Why it was not found (naming the id), otherwise null.</param>
    /// <returns>True when found.</returns>
    public static bool TryFind(string ianaId, [NotNullWhen(true)] out TimeZoneInfo? zone, [NotNullWhen(false)] out string? error)
    {
        zone = null;
        if (string.IsNullOrWhiteSpace(ianaId))
        {
            error = "The time zone is empty; use an IANA id such as 'Europe/London' or 'UTC'.";
            return false;
        }

        var id = ianaId.Trim();
        if (id.Length <= MaxIdLength && id.All(IsIdCharacter))
        {
            // "UTC" is both an IANA and a Windows id: keep IANA ids as given.
            if (!TimeZoneInfo.TryConvertIanaIdToWindowsId(id, out _) && TimeZoneInfo.TryConvertWindowsIdToIanaId(id, out var converted))
            {
                id = converted;
            }

            if (TimeZoneInfo.TryFindSystemTimeZoneById(id, out var found))
            {
                zone = found;
                error = null;
                return true;
            }
        }

        error = $"Unknown time zone '{Shorten(ianaId)}'; use an IANA id such as 'Europe/London', 'America/New_York' or 'UTC'.";
        return false;
    }

    /// <summary>The zone for <paramref name="timeZone"/> (UTC when null), or a <see cref="ScheduleFormatException"/>.</summary>
    internal static TimeZoneInfo FindOrThrow(string? timeZone) =>
        timeZone is null ? TimeZoneInfo.Utc
        : TryFind(timeZone, out var zone, out var error) ? zone
        : throw new ScheduleFormatException(error);

    /// <summary>Whether the zone is UTC itself, so local time is UTC time and no DST layer is needed.</summary>
    internal static bool IsUtc(TimeZoneInfo zone) =>
        ReferenceEquals(zone, TimeZoneInfo.Utc) || zone.Id is "UTC" or "Etc/UTC" or "Etc/UCT" or "Etc/Universal" or "Etc/Zulu";

    private static bool IsIdCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is '/' or '_' or '-' or '+' or ' ' or '.';

    internal static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";
}
