using System.Security.Cryptography;
using System.Text;
using Flow.ControlPlane;
using Flow.Engine.Storage;

namespace Flow.Process;

/// <summary>
/// Run-scoped tokens: what a process worker hands a subprocess (<c>FLOW_RUN_TOKEN</c>) so that it can use the process API for
/// its own run and nothing else. A token is <c>frt1.{base64url(runId)}.{expiry unix seconds}.{base64url(HMAC-SHA256)}</c>,
/// signed with a 256-bit key kept in the control store (state entry <see cref="KeyStateKey"/>, created on first use), so the
/// API and every worker that can reach the storage share it without configuration. Tokens are never logged. A hook token
/// (<c>frh1.…</c>, <see cref="IssueHookAsync"/>) is for a subprocess started only to run a finished run's owed state hook: it reads
/// the run and may write nothing but the hook's record (docs/hooks.md).
/// </summary>
public sealed class RunTokens
{
    /// <summary>The control-store state key of the signing key.</summary>
    public const string KeyStateKey = "process:run-token-key";

    private const string Prefix = "frt1";
    private const string HookPrefix = "frh1";
    private readonly IControlStore _control;
    private readonly TimeProvider _time;
    private byte[]? _key;

    /// <summary>Creates the service.</summary>
    /// <param name="control">The control-plane store holding the key.</param>
    /// <param name="timeProvider">The clock.</param>
    public RunTokens(IControlStore control, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(control);
        _control = control;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Issues a token for one run.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="lifetime">How long it stays valid.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The token.</returns>
    public Task<string> IssueAsync(string runId, TimeSpan lifetime, CancellationToken cancellationToken) =>
        IssueAsync(Prefix, runId, lifetime, cancellationToken);

    /// <summary>Issues a hook token for one run: it reads the run and records its owed state hook, nothing else.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="lifetime">How long it stays valid.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The token.</returns>
    public Task<string> IssueHookAsync(string runId, TimeSpan lifetime, CancellationToken cancellationToken) =>
        IssueAsync(HookPrefix, runId, lifetime, cancellationToken);

    private async Task<string> IssueAsync(string prefix, string runId, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        var key = await GetKeyAsync(cancellationToken).ConfigureAwait(false);
        var expiry = (_time.GetUtcNow() + lifetime).ToUnixTimeSeconds();
        var payload = $"{prefix}.{Base64Url(Encoding.UTF8.GetBytes(runId))}.{expiry}";
        return payload + "." + Base64Url(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(payload)));
    }

    /// <summary>Checks a token.</summary>
    /// <param name="token">The token as presented.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The run the token is for, or null when it is malformed, forged or expired.</returns>
    public async Task<string?> ValidateAsync(string? token, CancellationToken cancellationToken) =>
        await ValidateGrantAsync(token, cancellationToken).ConfigureAwait(false) is { HookOnly: false } grant ? grant.RunId : null;

    /// <summary>Checks a token of either kind: a run token or a hook token (<see cref="IssueHookAsync"/>).</summary>
    /// <param name="token">The token as presented.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>What it grants, or null when it is malformed, forged or expired.</returns>
    public async Task<RunTokenGrant?> ValidateGrantAsync(string? token, CancellationToken cancellationToken)
    {
        var parts = token?.Split('.');
        if (parts is not [var prefix and (Prefix or HookPrefix), var id, var exp, var sig] || !long.TryParse(exp, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var expiry))
        {
            return null;
        }

        var key = await GetKeyAsync(cancellationToken).ConfigureAwait(false);
        var expected = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{prefix}.{id}.{exp}"));
        byte[] given;
        byte[] runId;
        try
        {
            given = FromBase64Url(sig);
            runId = FromBase64Url(id);
        }
        catch (FormatException)
        {
            return null;
        }

        if (!CryptographicOperations.FixedTimeEquals(given, expected) || _time.GetUtcNow().ToUnixTimeSeconds() > expiry)
        {
            return null;
        }

        return new RunTokenGrant(Encoding.UTF8.GetString(runId), prefix == HookPrefix);
    }

    private async Task<byte[]> GetKeyAsync(CancellationToken cancellationToken)
    {
        if (_key is { } cached)
        {
            return cached;
        }

        for (var attempt = 0; ; attempt++)
        {
            var entry = await _control.GetStateAsync(KeyStateKey, cancellationToken).ConfigureAwait(false);
            if (entry is not null)
            {
                return _key = Convert.FromBase64String(entry.Record);
            }

            try
            {
                var fresh = RandomNumberGenerator.GetBytes(32);
                await _control.PutStateAsync(KeyStateKey, Convert.ToBase64String(fresh), IControlStore.MustNotExist, cancellationToken).ConfigureAwait(false);
                return _key = fresh;
            }
            catch (ConcurrencyException) when (attempt < 3)
            {
                // another process created it first: read theirs
            }
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }
}
