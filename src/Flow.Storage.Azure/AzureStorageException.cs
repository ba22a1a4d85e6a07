namespace Flow.Storage.Azure;

/// <summary>
/// The root of Flow's own Azure Storage exceptions: <see cref="StorageConfigurationException"/> for settings that cannot be
/// used. Failures the service reports arrive as the Azure SDK's <c>Azure.RequestFailedException</c>.
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
