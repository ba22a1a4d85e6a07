using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>Each test gets its own freshly created table in the shared Azurite and a 30 s deadline.</summary>
public abstract class TableTestBase : IAsyncLifetime
{
    protected TableTestBase(AzuriteFixture azurite)
    {
        Azurite = azurite;
        Connection = StorageConnection.Parse(azurite.ConnectionString, "test");
        Service = new TableServiceClient(Connection);
        Table = Service.GetTableClient(UniqueNames.Table(GetType().Name[..Math.Min(12, GetType().Name.Length)]));
        Deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
    }

    protected AzuriteFixture Azurite { get; }

    protected StorageConnection Connection { get; }

    protected TableServiceClient Service { get; }

    protected TableClient Table { get; }

    protected TestDeadline Deadline { get; }

    protected CancellationToken Ct => Deadline.Token;

    public async ValueTask InitializeAsync() => await Table.CreateIfNotExistsAsync(Ct);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Table.DeleteIfExistsAsync(CancellationToken.None);
        }
        finally
        {
            Deadline.Dispose();
            GC.SuppressFinalize(this);
        }
    }
}
