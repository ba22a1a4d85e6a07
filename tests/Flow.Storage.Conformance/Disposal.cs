namespace Flow.Storage.Conformance;

/// <summary>Disposes the backends a test created.</summary>
internal static class Disposal
{
    /// <summary>Disposes each item that is <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/>, then empties the list.</summary>
    public static async ValueTask DisposeAllAsync<T>(List<T> items)
    {
        foreach (var item in items)
        {
            if (item is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync();
            }
            else if (item is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }

        items.Clear();
    }
}
