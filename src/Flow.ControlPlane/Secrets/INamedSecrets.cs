using System.Diagnostics.CodeAnalysis;

namespace Flow.ControlPlane.Secrets;

/// <summary>
/// Secrets by name (docs/automations.md): the keys that sign outgoing webhooks and check incoming ones. Automations, webhooks
/// and deployments files name a secret; its value never appears in a stored record, a log line, an error or an event.
/// </summary>
public interface INamedSecrets
{
    /// <summary>Gets a secret's value.</summary>
    /// <param name="name">The secret's name (<see cref="SecretNames.IsValid"/>).</param>
    /// <param name="value">The value as bytes, when found.</param>
    /// <returns>Whether a secret of that name exists.</returns>
    bool TryGet(string name, [NotNullWhen(true)] out byte[]? value);
}
