using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.AspNetCore;
using Flow.Engine.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Flow.Functions.Hosting;

/// <summary>
/// OpenTelemetry for the app: traces (a span per API request, per run episode, per task attempt), Flow's metrics and the
/// ILogger logs with their trace ids. Exported to Application Insights when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is
/// set (authenticated with Entra ID when <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c> says <c>Authorization=AAD</c>),
/// over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, both when both are; nothing is registered otherwise.
/// </summary>
internal static class Telemetry
{
    /// <summary>The Application Insights connection string setting (it locates the ingestion endpoint; it is not a secret with local auth off).</summary>
    public const string AppInsightsSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>How the app authenticates to Application Insights: <c>ClientId=...;Authorization=AAD</c>.</summary>
    public const string AppInsightsAuthenticationSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>The OTLP endpoint setting (standard OpenTelemetry name).</summary>
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Adds OpenTelemetry when an exporter is configured.</summary>
    /// <param name="builder">The app builder.</param>
    /// <returns>The exporters in use ("none" when telemetry is off).</returns>
    /// <exception cref="InvalidOperationException">The authentication string is malformed; the message names the setting.</exception>
    public static string AddFlowTelemetry(this WebApplicationBuilder builder)
    {
        var appInsights = builder.Configuration[AppInsightsSetting] is { Length: > 0 } connection ? connection : null;
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointSetting]);
        if (appInsights is null && !otlp)
        {
            return "none";
        }

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "flow"))
            .WithTracing(t => t.AddSource(FlowTelemetry.Name).AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments("/api/health", StringComparison.OrdinalIgnoreCase)))
            .WithMetrics(m => m.AddMeter(FlowTelemetry.Name).AddAspNetCoreInstrumentation())
            .WithLogging();
        var exporters = new List<string>();
        if (appInsights is not null)
        {
            var credential = Credential(builder.Configuration[AppInsightsAuthenticationSetting]);
            otel.UseAzureMonitor(o =>
            {
                o.ConnectionString = appInsights;
                o.Credential = credential;
            });
            exporters.Add(credential is null ? "azure-monitor" : "azure-monitor (Entra ID)");
        }

        if (otlp)
        {
            otel.UseOtlpExporter();
            exporters.Add("otlp");
        }

        return string.Join(", ", exporters);
    }

    /// <summary>The credential an authentication string names: <c>Authorization=AAD</c> with an optional <c>ClientId</c> (user-assigned identity).</summary>
    /// <param name="value">The setting's value.</param>
    /// <returns>The credential, or null for none (instrumentation-key ingestion).</returns>
    /// <exception cref="InvalidOperationException">The value is not <c>Authorization=AAD[;ClientId=...]</c>.</exception>
    internal static TokenCredential? Credential(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var parts = value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2, StringSplitOptions.TrimEntries))
            .ToDictionary(p => p[0], p => p.Length == 2 ? p[1] : string.Empty, StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Authorization", out var kind) || !string.Equals(kind, "AAD", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{AppInsightsAuthenticationSetting} must be 'Authorization=AAD' or 'ClientId=<client id>;Authorization=AAD'.");
        }

        return parts.TryGetValue("ClientId", out var clientId) && clientId.Length > 0
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);
    }
}
