using System.Globalization;
using System.Reflection;
using Flow.Client;
using Flow.Engine;
using Flow.ControlPlane;
using Flow.ControlPlane.Webhooks;
using Flow.Engine.Storage;
using Flow.Functions.Api;
using Flow.Functions.Hosting;
using Flow.Process;
using Flow.Sdk;
using Flow.Storage.Azure;
using Flow.Storage.Backends;

namespace Flow.Functions;

/// <summary>
/// Composes the Flow app: one ASP.NET Core executable that runs under the Azure Functions host (custom handler: the host
/// owns the triggers and POSTs invocations) or standalone (built-in timer and queue pollers, roles switchable by configuration).
/// </summary>
public static class FlowApp
{
    /// <summary>Builds the app.</summary>
    /// <param name="args">Command-line arguments (<c>--urls</c>, configuration overrides).</param>
    /// <param name="flows">Registers the app's flows (besides the modules of <c>Flow:App:FlowAssemblies</c>).</param>
    /// <param name="configure">Changes the builder before it is built (tests add configuration here).</param>
    /// <returns>The app, not yet started.</returns>
    /// <exception cref="InvalidOperationException">A setting is invalid; the message names it.</exception>
    /// <exception cref="StorageConfigurationException">The storage setting is missing or unusable; the message names it.</exception>
    public static WebApplication Build(string[] args, Action<FlowRegistry>? flows = null, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        configure?.Invoke(builder);
        var customHandlerPort = builder.Configuration["FUNCTIONS_CUSTOMHANDLER_PORT"];
        var functionsMode = !string.IsNullOrEmpty(customHandlerPort);
        if (functionsMode && string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            if (!int.TryParse(customHandlerPort, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            {
                throw new InvalidOperationException($"FUNCTIONS_CUSTOMHANDLER_PORT must be a TCP port, not '{customHandlerPort}'.");
            }

            builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
        }

        // Quiet console: warnings and errors, plus Flow's operational logs at Information (run started, finished, retried, taken
        // over; schedule occurrences; refused run requests). Flows' own log lines go to the run's log, not here. The Functions
        // host turns stdout into logs; a more specific Logging:LogLevel category (e.g. Flow.Engine) overrides these levels.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Flow", LogLevel.Information);
        builder.Logging.AddFilter("Flow.Run", LogLevel.Warning);
        builder.AddFlowTelemetry();

        var appOptions = builder.Configuration.GetSection(FlowAppOptions.SectionName).Get<FlowAppOptions>() ?? new FlowAppOptions();
        appOptions.Validate();
        builder.Services.AddOptions<FlowAppOptions>().Bind(builder.Configuration.GetSection(FlowAppOptions.SectionName));
        // Binding failures (?count=abc) throw, so Problems answers them with problem details naming the parameter.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = Math.Max(appOptions.MaxRequestBodyBytes, 4 * 1024 * 1024));

        var modules = FlowModules.Load(appOptions.FlowAssemblies);
        var flow = builder.Services.AddFlow(registry =>
        {
            foreach (var module in modules)
            {
                module.Register(registry);
            }

            flows?.Invoke(registry);
        });
        // The storage backend (Flow:Storage:Backend = Azure or Postgres); a bad setting fails the start, naming it.
        var backend = builder.Services.AddFlowStorage(builder.Configuration, functionsMode);
        if (functionsMode)
        {
            // The host delivers queue messages and settles them; the engine must not delete or hide them itself.
            builder.Services.AddSingleton<IWorkQueue>(sp => new DeliveredWorkQueue(sp.GetRequiredService<AzureWorkQueue>(), sp.GetRequiredService<TimeProvider>()));
        }

        flow.AddEngine(builder.Configuration).AddControlPlane(builder.Configuration);
        builder.Services.AddIncomingWebhooks(builder.Configuration);
        builder.Services.AddOptions<FlowWorkerOptions>().Bind(builder.Configuration.GetSection(FlowWorkerOptions.SectionName));
        builder.Services.AddFlowProcess(builder.Configuration, hostWorker: !functionsMode && appOptions.Has("worker"));
        builder.Services.AddSingleton<StartupGate>();
        builder.Services.AddHostedService<StartupService>();
        builder.Services.AddSingleton<StorageHealth>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StorageHealth>());
        if (!functionsMode)
        {
            if (appOptions.Has("worker"))
            {
                flow.AddWorker(builder.Configuration);
            }

            if (appOptions.Has("scheduler"))
            {
                builder.Services.AddHostedService<SchedulerTimer>();
                builder.Services.AddHostedService<RunRequestPoller>();
                builder.Services.AddHostedService<AutomationLoop>();
            }
        }

        // Retention on Azure runs where the scheduler runs (PostgreSQL's is registered with its store, in every role).
        if (backend == "Azure" && (functionsMode || appOptions.Has("scheduler")))
        {
            builder.Services.AddHostedService<AzureRetentionService>();
        }

        // Workers touch the storage only once start-up has reached it (an outage is retried there, not fatal here).
        AfterStartup.Wrap(builder.Services, typeof(FlowWorker), typeof(ProcessWorker), typeof(AzureRetentionService));
        // The OpenAPI document describes types with these options: Flow.Client's (integers are integers, enums are strings).
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.NumberHandling = FlowJson.Options.NumberHandling;
            o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());
        });
        builder.Services.AddOpenApi("v1", o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Flow API";
            document.Info.Description = "Deployments, work pools, runs, logs, artifacts and events of Flow, the workflow orchestrator for .NET on Azure. Errors are application/problem+json. Standalone, send the API key in the X-Flow-Api-Key header; under Azure Functions, a function key (x-functions-key).";
            return Task.CompletedTask;
        }));

        var app = builder.Build();
        var version = typeof(FlowApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var mode = functionsMode ? "functions" : "standalone";
        app.Use(Problems.HandleExceptionsAsync);
        app.UseStatusCodePages(Problems.WriteStatusCodeAsync);
        app.Use(StorageOutage.InvokeAsync);
        if (!functionsMode)
        {
            app.Use(ApiKeyAuth.InvokeAsync);
        }

        app.Use(ETagMiddleware.InvokeAsync);

        // The Functions host polls GET / until the custom handler answers; standalone it is a liveness probe. Both get the dashboard.
        DashboardFiles.Map(app);
        app.MapGet("/api/health", (StartupGate gate, StorageHealth storage) => Results.Json(
            new HealthReport(
                !gate.IsReady ? "starting" : storage.Failure is null ? "healthy" : "degraded",
                version,
                mode,
                functionsMode ? "functions-host" : appOptions.Roles,
                gate.Problem ?? (gate.IsReady && storage.Failure is { } down ? "storage: " + down : null),
                gate.IsReady && storage.Failure is not null ? ["storage"] : null),
            ApiJson.Options))
            .Produces<HealthReport>().WithTags("Health").WithSummary("Liveness and readiness; no authentication.");
        app.MapOpenApi("/api/openapi.json");
        if (functionsMode || appOptions.Has("api"))
        {
            ApiEndpoints.Map(app);
            EventEndpoints.Map(app);
            ProcessEndpoints.Map(app);
            DashboardEndpoints.Map(app);
            WebhookEndpoints.Map(app, functionsMode);
        }

        if (functionsMode)
        {
            Invocations.Map(app);
        }

        return app;
    }
}
