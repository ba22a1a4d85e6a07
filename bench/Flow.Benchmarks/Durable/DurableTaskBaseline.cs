using System.Diagnostics;
using DurableTask.AzureStorage;
using DurableTask.Core;

namespace Flow.Benchmarks.Durable;

/// <summary>
/// The Durable Task Framework on its Azure Storage provider (the engine under Durable Functions), in this process,
/// on a given storage account: one <see cref="TaskHubWorker"/> and one <see cref="TaskHubClient"/> on a fresh task hub
/// per measurement. Completion is observed by polling the instances' status every 50 ms, one instance at a time (the
/// client's own wait polls every few seconds, which would blur the figure).
/// </summary>
internal static class DurableTaskBaseline
{
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(50);

    /// <summary>Runs <paramref name="instances"/> orchestrations of <paramref name="orchestration"/> with input <paramref name="input"/> at once; the seconds from start to the last completion.</summary>
    public static async Task<double> RunAsync(string connectionString, string hub, Type orchestration, int input, int instances, long expectedEach, CancellationToken cancellationToken)
    {
        var service = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            StorageAccountClientProvider = new StorageAccountClientProvider(connectionString),
            TaskHubName = hub,

            // Durable Functions' default is 30 s; an idle hub backs off towards it. 1 s matches Flow's worker.
            MaxQueuePollingInterval = TimeSpan.FromSeconds(1),
        });
        await service.CreateIfNotExistsAsync().ConfigureAwait(false);
        var worker = new TaskHubWorker(service);
        worker.AddTaskOrchestrations(typeof(SequentialOrchestration), typeof(FanOutOrchestration));
        worker.AddTaskActivities(typeof(NoopActivity));
        await worker.StartAsync().ConfigureAwait(false);
        try
        {
            var client = new TaskHubClient(service);
            var clock = Stopwatch.StartNew();
            var started = await Task.WhenAll(Enumerable.Range(0, instances).Select(_ => client.CreateOrchestrationInstanceAsync(orchestration, input))).ConfigureAwait(false);
            // One instance checked at a time, oldest first: a request per poll while it runs, then straight on to the next.
            foreach (var instance in started)
            {
                while (true)
                {
                    var state = await client.GetOrchestrationStateAsync(instance).ConfigureAwait(false);
                    if (state is not null && state.OrchestrationStatus is not (OrchestrationStatus.Pending or OrchestrationStatus.Running or OrchestrationStatus.ContinuedAsNew))
                    {
                        if (state.OrchestrationStatus != OrchestrationStatus.Completed || state.Output != expectedEach.ToString(System.Globalization.CultureInfo.InvariantCulture))
                        {
                            throw new InvalidOperationException($"Durable instance {instance.InstanceId} ended {state.OrchestrationStatus} with {state.Output}.");
                        }

                        break;
                    }

                    await Task.Delay(PollEvery, cancellationToken).ConfigureAwait(false);
                }
            }

            return clock.Elapsed.TotalSeconds;
        }
        finally
        {
            await worker.StopAsync(isForced: true).ConfigureAwait(false);
            await service.DeleteAsync().ConfigureAwait(false);
        }
    }
}
