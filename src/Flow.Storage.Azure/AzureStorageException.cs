namespace Flow.Storage.Azure;

/// <summary>
/// The root of every exception thrown by Flow's Azure Storage clients. Catch this type to handle any
/// storage failure; catch <see cref="StorageRequestException"/> for failures the service reported and
/// <see cref="StorageConfigurationException"/> for settings that cannot be used.
/// </summary>
public class AzureStorageException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong, in a sentence a user can act on.</param>
    public AzureStorageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    /// <param name="message">What went wrong, in a sentence a user can act on.</param>
    /// <param name="innerException">The cause.</param>
    public AzureStorageException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A request that the Table or Queue service answered with an error (after the pipeline's retries of
/// transient failures were spent). Carries the HTTP status, the service's error code and its request id,
/// so callers can tell a missing resource (404), a conflict (409) and a failed precondition (412) apart.
/// </summary>
public sealed class StorageRequestException : AzureStorageException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="status">The HTTP status code of the failed response.</param>
    /// <param name="errorCode">The storage error code (for example <c>EntityAlreadyExists</c>), when the service gave one.</param>
    /// <param name="requestId">The service's request id (<c>x-ms-request-id</c>), for support cases.</param>
    /// <param name="message">The message, including the service's own error text.</param>
    /// <param name="failedOperationIndex">For an entity group transaction: the zero-based index of the operation that failed.</param>
    /// <param name="innerException">The transport failure, when the service could not be reached at all (status 0).</param>
    public StorageRequestException(int status, string? errorCode, string? requestId, string message, int? failedOperationIndex = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Status = status;
        ErrorCode = errorCode;
        RequestId = requestId;
        FailedOperationIndex = failedOperationIndex;
    }

    /// <summary>The HTTP status code of the failed response; 0 when no response arrived (network failure after retries).</summary>
    public int Status { get; }

    /// <summary>The storage error code, for example <c>EntityAlreadyExists</c>, <c>UpdateConditionNotSatisfied</c> or <c>QueueNotFound</c>.</summary>
    public string? ErrorCode { get; }

    /// <summary>The service's request id (<c>x-ms-request-id</c>).</summary>
    public string? RequestId { get; }

    /// <summary>For a failed entity group transaction, the zero-based index of the operation the service rejected.</summary>
    public int? FailedOperationIndex { get; }

    /// <summary>True when the resource (table, entity, queue, message) does not exist (HTTP 404).</summary>
    public bool IsNotFound => Status == 404;

    /// <summary>True when the resource already exists or the operation conflicts with its state (HTTP 409).</summary>
    public bool IsConflict => Status == 409;

    /// <summary>True when an <c>If-Match</c> condition failed: someone else changed the entity first (HTTP 412).</summary>
    public bool IsPreconditionFailed => Status == 412;
}

/// <summary>
/// Storage settings that are missing or cannot be used. The message names the setting; it never contains
/// a secret value.
/// </summary>
public sealed class StorageConfigurationException : AzureStorageException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="settingName">The configuration setting at fault, for example <c>AzureWebJobsStorage</c>.</param>
    /// <param name="message">What is wrong with it and how to fix it.</param>
    public StorageConfigurationException(string settingName, string message)
        : base(message)
    {
        SettingName = settingName;
    }

    /// <summary>The configuration setting at fault.</summary>
    public string SettingName { get; }
}
