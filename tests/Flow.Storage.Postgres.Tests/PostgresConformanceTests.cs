using Flow.ControlPlane;
using Flow.Engine.Events;
using Flow.Engine.Storage;
using Flow.Storage.Conformance;
using Flow.TestSupport;
using Npgsql;

namespace Flow.Storage.Postgres.Tests;

/// <summary>The store conformance suite on <see cref="PostgresFlowStore"/>: every store in a schema of its own.</summary>
public sealed class PostgresFlowStoreConformanceTests(PostgresFixture postgres) : FlowStoreConformanceTests
{
    private readonly NpgsqlDataSource _dataSource = PostgresConnection.CreateDataSource(postgres.ConnectionString);

    protected override Task<IFlowStore> CreateStoreAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IFlowStore>(new PostgresFlowStore(_dataSource, new PostgresFlowStorageOptions { Schema = UniqueNames.Schema("c") }));

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        await _dataSource.DisposeAsync();
    }
}

/// <summary>The work queue conformance suite on <see cref="PostgresWorkQueue"/>, on the real clock (the server's).</summary>
public sealed class PostgresWorkQueueConformanceTests(PostgresFixture postgres) : WorkQueueConformanceTests
{
    private readonly NpgsqlDataSource _dataSource = PostgresConnection.CreateDataSource(postgres.ConnectionString);
    private readonly PostgresFlowStorageOptions _options = new() { Schema = UniqueNames.Schema("q") };

    protected override async Task<IWorkQueue> CreateQueueAsync(CancellationToken cancellationToken)
    {
        await new PostgresFlowStore(_dataSource, _options).InitializeAsync(cancellationToken);
        return new PostgresWorkQueue(_dataSource, _options);
    }

    protected override Task EnqueueRawAsync(IWorkQueue workQueue, string queue, string body, CancellationToken cancellationToken) =>
        ((PostgresWorkQueue)workQueue).EnqueueRawAsync(queue, body, TimeSpan.Zero, cancellationToken);

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        await _dataSource.DisposeAsync();
    }
}

/// <summary>The control store conformance suite on <see cref="PostgresControlStore"/>: every store in a schema of its own.</summary>
public sealed class PostgresControlStoreConformanceTests(PostgresFixture postgres) : ControlStoreConformanceTests
{
    private readonly NpgsqlDataSource _dataSource = PostgresConnection.CreateDataSource(postgres.ConnectionString);

    private readonly Dictionary<IControlStore, PostgresFlowStorageOptions> _options = [];

    protected override Task<IControlStore> CreateStoreAsync(CancellationToken cancellationToken)
    {
        var options = new PostgresFlowStorageOptions { Schema = UniqueNames.Schema("k") };
        var store = new PostgresControlStore(_dataSource, options);
        _options[store] = options;
        return Task.FromResult<IControlStore>(store);
    }

    protected override IEventStore EventsOf(IControlStore store) => new PostgresEventStore(_dataSource, _options[store]);

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        await _dataSource.DisposeAsync();
    }
}

/// <summary>The event conformance suite on PostgreSQL: the flow store inserts run events in its commit statements.</summary>
public sealed class PostgresEventStoreConformanceTests(PostgresFixture postgres) : EventStoreConformanceTests, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource = PostgresConnection.CreateDataSource(postgres.ConnectionString);

    protected override Task<(IFlowStore Flows, Flow.Engine.Events.IEventStore Events)> CreateStoresAsync(CancellationToken cancellationToken)
    {
        var options = new PostgresFlowStorageOptions { Schema = UniqueNames.Schema("e") };
        return Task.FromResult<(IFlowStore, Flow.Engine.Events.IEventStore)>((new PostgresFlowStore(_dataSource, options), new PostgresEventStore(_dataSource, options)));
    }

    public async ValueTask DisposeAsync() => await _dataSource.DisposeAsync();
}
