using System.Diagnostics.CodeAnalysis;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace Flow.ControlPlane.Secrets;

/// <summary>
/// Secrets from configuration: secret <c>name</c> is the setting <c>Flow:Secrets:name</c> (environment variable
/// <c>Flow__Secrets__name</c>; in Azure an app setting, typically a Key Vault reference), its value taken as UTF-8 text.
/// Read on each call, so a rotated setting applies without a restart where the configuration reloads.
/// </summary>
/// <param name="configuration">The configuration.</param>
public sealed class ConfigurationSecrets(IConfiguration configuration) : INamedSecrets
{
    /// <summary>The configuration section that holds the secrets.</summary>
    public const string SectionName = "Flow:Secrets";

    /// <inheritdoc />
    public bool TryGet(string name, [NotNullWhen(true)] out byte[]? value)
    {
        value = null;
        if (!SecretNames.IsValid(name) || configuration[$"{SectionName}:{name}"] is not { Length: > 0 } text)
        {
            return false;
        }

        value = Encoding.UTF8.GetBytes(text);
        return true;
    }
}
