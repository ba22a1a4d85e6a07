namespace Flow.ControlPlane.Secrets;

/// <summary>The rule for secret names: 1 to 64 letters, digits, <c>-</c> and <c>_</c>, so a name is safe in a configuration
/// key and an environment variable.</summary>
public static class SecretNames
{
    /// <summary>The longest name.</summary>
    public const int MaxLength = 64;

    /// <summary>Whether <paramref name="name"/> follows the rule.</summary>
    /// <param name="name">The name.</param>
    /// <returns>True when valid.</returns>
    public static bool IsValid(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
