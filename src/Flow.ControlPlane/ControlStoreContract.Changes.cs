using Flow.Engine.Storage;

namespace Flow.ControlPlane;

/// <summary>How durable stores write a change together with its event (<see cref="ControlEvents"/>).</summary>
public static partial class ControlStoreContract
{
    /// <summary>How often an unconditional write or a delete is tried again when another writer changed the record between
    /// its read and its conditional write.</summary>
    public const int MaxChangeAttempts = 10;

    /// <summary>
    /// Writes a change whose event depends on the record before it: reads the record, then lets <paramref name="write"/> store
    /// the new record and the event in one atomic write conditioned on a version. With an expected version the condition is
    /// that version (a failed condition throws and writes nothing, event included). An unconditional write (null) is made
    /// conditional on the version it read (or on absence), and tried again when another writer came between, so its event
    /// always describes the record it really replaced.
    /// </summary>
    /// <typeparam name="T">The record type.</typeparam>
    /// <typeparam name="TResult">What the write returns.</typeparam>
    /// <param name="read">Reads the stored record.</param>
    /// <param name="expectedVersion">The caller's write condition (<see cref="IControlStore"/> remarks).</param>
    /// <param name="write">Writes under a condition (never null) given the record read; throws <see cref="ConcurrencyException"/> when it fails.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>What the write returned.</returns>
    public static async Task<TResult> WriteChangeAsync<T, TResult>(
        Func<CancellationToken, Task<Versioned<T>?>> read,
        string? expectedVersion,
        Func<Versioned<T>?, string, CancellationToken, Task<TResult>> write,
        CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(write);
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var current = await read(cancellationToken).ConfigureAwait(false);
            var condition = expectedVersion ?? current?.Version ?? IControlStore.MustNotExist;
            try
            {
                return await write(current, condition, cancellationToken).ConfigureAwait(false);
            }
            catch (ConcurrencyException) when (expectedVersion is null && attempt < MaxChangeAttempts)
            {
                // another writer came between the read and the write: read again
            }
        }
    }

    /// <summary>
    /// Deletes a record together with its event: reads it (false when it does not exist), then lets <paramref name="delete"/>
    /// remove that version and store the event atomically, reading again when another writer came between.
    /// </summary>
    /// <typeparam name="T">The record type.</typeparam>
    /// <param name="read">Reads the stored record.</param>
    /// <param name="delete">Deletes the version read (with its event); throws <see cref="ConcurrencyException"/> when the version changed.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>True when it existed.</returns>
    public static async Task<bool> DeleteChangeAsync<T>(
        Func<CancellationToken, Task<Versioned<T>?>> read,
        Func<Versioned<T>, CancellationToken, Task> delete,
        CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(delete);
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await read(cancellationToken).ConfigureAwait(false) is not { } current)
            {
                return false;
            }

            try
            {
                await delete(current, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (ConcurrencyException) when (attempt < MaxChangeAttempts)
            {
                // changed or deleted between the read and the delete: read again
            }
        }
    }
}
