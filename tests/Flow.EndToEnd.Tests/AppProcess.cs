using Flow.TestSupport;

namespace Flow.EndToEnd.Tests;

/// <summary>What the tests that run the built Flow.Functions executable as a process share.</summary>
internal static class AppProcess
{
    /// <summary>Waits until the app's <c>health</c> endpoint (relative to <paramref name="http"/>'s base address) reports healthy; fails at once if the process exited.</summary>
    public static async Task WaitHealthyAsync(HttpClient http, ProcessRunner app, TestDeadline deadline) =>
        await deadline.PollUntilAsync(async ct =>
        {
            Assert.False(app.HasExited, $"Flow.Functions exited with {app.ExitCode}:\n{app.Output}");
            try
            {
                using var response = await http.GetAsync("health", ct);
                return (await response.Content.ReadAsStringAsync(ct)).Contains("\"healthy\"", StringComparison.Ordinal);
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the app to report healthy");
}
