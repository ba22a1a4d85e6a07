using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Flow.Cli;

/// <summary>A thin client of Flow's HTTP API for the CLI: the address and key from options or FLOW_API_URL / FLOW_API_KEY; problems become <see cref="CliException"/>.</summary>
internal sealed class ApiClient : IDisposable
{
    private readonly HttpClient _http;

    public ApiClient(string? api, string? apiKey)
    {
        var address = api ?? Environment.GetEnvironmentVariable("FLOW_API_URL") ?? "http://127.0.0.1:7071";
        if (!Uri.TryCreate(address.TrimEnd('/') + "/", UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CliException($"'{address}' is not an http(s) address (--api or FLOW_API_URL).");
        }

        Address = uri;
        _http = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(60) };
        var key = apiKey ?? Environment.GetEnvironmentVariable("FLOW_API_KEY");
        if (!string.IsNullOrEmpty(key))
        {
            _http.DefaultRequestHeaders.Add("X-Flow-Api-Key", key);

            // Under Azure Functions the host checks a function key in this header before the request reaches Flow.
            _http.DefaultRequestHeaders.Add("x-functions-key", key);
        }

        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    public Uri Address { get; }

    public Task<JsonElement> GetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, null, ct);

    public Task<JsonElement> PostAsync(string path, string? json, CancellationToken ct, string contentType = "application/json") =>
        SendAsync(HttpMethod.Post, path, json, contentType, ct);

    public async Task<JsonElement> SendAsync(HttpMethod method, string path, string? body, string? contentType, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, "api/" + path.TrimStart('/'));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, contentType ?? "application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"cannot reach the Flow API at {Address} ({e.Message}); start it (./flow.sh start) or set --api / FLOW_API_URL.");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            JsonElement json = default;
            if (text.Length > 0)
            {
                try
                {
                    json = JsonDocument.Parse(text).RootElement.Clone();
                }
                catch (JsonException)
                {
                    throw new CliException($"{method} {path}: {(int)response.StatusCode} with a body that is not JSON.");
                }
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new CliException(Describe(response, json));
            }

            return json;
        }
    }

    private static string Describe(HttpResponseMessage response, JsonElement problem)
    {
        var builder = new StringBuilder();
        builder.Append(problem.ValueKind == JsonValueKind.Object && problem.TryGetProperty("detail", out var detail) ? detail.GetString() : $"HTTP {(int)response.StatusCode}");
        if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized)
        {
            builder.Append(" (set --api-key or FLOW_API_KEY)");
        }

        return builder.ToString();
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>An error to show as <c>flow: error: …</c> with exit code 1.</summary>
internal sealed class CliException(string message) : Exception(message);
