var builder = WebApplication.CreateSlimBuilder(args);
var app = builder.Build();

// The Functions host polls GET / until the custom handler answers; standalone it is a liveness probe.
app.MapGet("/", () => Results.Ok(new { service = "flow", status = "ok" }));
app.MapGet("/api/health", () => Results.Ok(new { status = "healthy" }));

await app.RunAsync();
