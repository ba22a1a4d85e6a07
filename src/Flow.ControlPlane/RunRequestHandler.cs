using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Flow.Engine;
using Flow.Engine.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flow.ControlPlane;

/// <summary>
/// Turns run-request messages into runs. Anything wrong with a message (not JSON, unknown fields, an unknown or paused
/// deployment, parameters that do not fit) refuses it for good: the refusal is recorded with its reason (readable through the
/// API) and the message should be removed, not retried. Storage failures propagate so the message is delivered again.
/// </summary>
public sealed partial class RunRequestHandler
{
    /// <summary>The queue's logical name (<c>flow-run-requests</c> in Azure with the default prefix).</summary>
    public const string QueueName = "run-requests";

    private const int MaxReasonBytes = 2048;
    private const int MaxFieldBytes = 200;

    private static readonly JsonSerializerOptions Json = JsonInputErrors.MakeStrict(new(JsonSerializerDefaults.Web));
    private readonly DeploymentService _deployments;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the handler.</summary>
    /// <param name="deployments">The deployment service.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">The logger.</param>
    public RunRequestHandler(DeploymentService deployments, TimeProvider? timeProvider = null, ILogger<RunRequestHandler>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(deployments);
        _deployments = deployments;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Handles one message.</summary>
    /// <param name="body">The message text: JSON, base64 of JSON, or JSON encoded as a JSON string (as the Functions host passes it).</param>
    /// <param name="messageId">The queue message id.</param>
    /// <param name="source">The queue it came from, for the record.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The outcome.</returns>
    public async Task<RunRequestOutcome> HandleAsync(string body, string messageId, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        RunRequestMessage? message;
        string? field = null;
        string? reason = null;
        try
        {
            message = Parse(body, out reason, out field);
        }
        catch (JsonException e)
        {
            message = null;
            field = JsonInputErrors.Field(e);
            reason = "The message is not a valid run request: " + (field is null ? string.Empty : field + ": ") + JsonInputErrors.Describe(e);
        }

        if (message is not null)
        {
            try
            {
                var key = message.IdempotencyKey ?? "message-" + messageId;
                var result = await _deployments.TriggerAsync(message.Deployment!, new TriggerRequest
                {
                    Parameters = message.Parameters,
                    IdempotencyKey = key,
                    ScheduledTime = message.ScheduledTime,
                    Tags = message.Tags,
                }, cancellationToken).ConfigureAwait(false);
                LogAccepted(_logger, messageId, result.Run.RunId, message.Deployment!, result.Created);
                return new RunRequestOutcome(result.Run.RunId, result.Created, null);
            }
            catch (InvalidRequestException e)
            {
                var first = e.Errors.First();
                field = first.Key;
                reason = e.Message;
            }
            catch (ControlPlaneException e)
            {
                field = "deployment";
                reason = e.Message;
            }
            catch (ArgumentException e)
            {
                // a value the stores refuse (a name or key out of their rules): refused for good, not retried
                field = e.ParamName;
                reason = e.Message;
            }
        }

        // Everything recorded fits the store (by UTF-8 bytes): a refusal is always recorded, so the message is settled in one delivery.
        var rejection = new RejectedRunRequest
        {
            Id = ControlStoreContract.IsValidRejectedRequestId(messageId) ? messageId : "message-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(messageId)))[..32],
            Source = Utf8Text.Truncate(source, ControlStoreContract.MaxRejectedRequestSourceLength),
            RejectedAt = StorageContract.NormalizeTime(_time.GetUtcNow()),
            Reason = Utf8Text.Truncate(reason ?? "The message is not a valid run request.", MaxReasonBytes),
            Field = field is null ? null : Utf8Text.Truncate(field, MaxFieldBytes),
            Body = Utf8Text.TruncateNoting(body, ControlStoreContract.MaxTextBytes),
        };
        await _deployments.Store.AddRejectedRequestAsync(rejection, cancellationToken).ConfigureAwait(false);
        LogRejected(_logger, messageId, rejection.Reason);
        return new RunRequestOutcome(null, false, rejection);
    }

    private static RunRequestMessage? Parse(string body, out string? reason, out string? field)
    {
        reason = null;
        field = null;
        var text = Unwrap(body);
        if (text is null)
        {
            reason = (IsJsonValue(body.Trim()) is { } kind
                ? $"Expected a JSON object, not {kind}."
                : "The message is not JSON (nor base64 of JSON).") + " Send {\"deployment\": \"flow/deployment\", \"parameters\": {...}}.";
            return null;
        }

        var message = JsonSerializer.Deserialize<RunRequestMessage>(text, Json);
        if (message is null)
        {
            reason = "Expected a JSON object, not null. Send {\"deployment\": \"flow/deployment\", \"parameters\": {...}}.";
            return null;
        }

        if (string.IsNullOrWhiteSpace(message.Deployment))
        {
            reason = "The run request names no deployment (\"deployment\": \"flow/deployment\").";
            field = "deployment";
            return null;
        }

        return message;
    }

    /// <summary>Finds the JSON object in a queue message: as is, inside JSON strings (a few levels deep), or base64-encoded (the Azure SDKs' and Storage Explorer's option).</summary>
    /// <param name="body">The message text.</param>
    /// <returns>The JSON object's text, or null when there is none.</returns>
    public static string? Unwrap(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var text = body.Trim();
        for (var depth = 0; depth < 5; depth++)
        {
            if (text.StartsWith('{') || text == "null")
            {
                return text;
            }

            if (text.StartsWith('"'))
            {
                try
                {
                    text = (JsonSerializer.Deserialize<string>(text) ?? string.Empty).Trim();
                    continue;
                }
                catch (JsonException)
                {
                    return null;
                }
            }

            var bytes = new byte[Base64.GetMaxDecodedFromUtf8Length(Encoding.UTF8.GetByteCount(text))];
            if (text.Length > 0 && Base64.DecodeFromUtf8(Encoding.UTF8.GetBytes(text), bytes, out _, out var written) == System.Buffers.OperationStatus.Done)
            {
                text = Encoding.UTF8.GetString(bytes, 0, written).Trim();
                continue;
            }

            return null;
        }

        return null;
    }

    /// <summary>What kind of JSON value a text is when it is valid JSON but not an object (<c>an array</c>), or null.</summary>
    private static string? IsJsonValue(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text, JsonInputErrors.DocumentOptions);
            return document.RootElement.ValueKind switch
            {
                JsonValueKind.Array => "an array",
                JsonValueKind.String => "a string",
                JsonValueKind.Number => "a number",
                JsonValueKind.True or JsonValueKind.False => "true or false",
                _ => null,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(640, LogLevel.Information, "Run request {MessageId} started run {RunId} of {Deployment} (new: {Created})")]
    private static partial void LogAccepted(ILogger logger, string messageId, string runId, string deployment, bool created);

    [LoggerMessage(641, LogLevel.Warning, "Run request {MessageId} refused: {Reason}")]
    private static partial void LogRejected(ILogger logger, string messageId, string reason);
}
