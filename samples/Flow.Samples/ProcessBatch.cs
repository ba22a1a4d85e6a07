using Flow.Sdk;

namespace Flow.Samples;

/// <summary>The parameters of <see cref="ProcessBatch"/>.</summary>
/// <param name="Items">How many items to process.</param>
/// <param name="DelayMs">How long each item takes, in milliseconds.</param>
public sealed record BatchParameters(int Items = 10, int DelayMs = 100);

/// <summary>What <see cref="ProcessBatch"/> did.</summary>
/// <param name="Processed">Items processed.</param>
/// <param name="Checksum">The sum of the items' results.</param>
public sealed record BatchSummary(int Processed, long Checksum);

/// <summary>
/// Processes a batch item by item, one task per item: kill the app in the middle and start it again, and the run goes on
/// from the first item whose completion was not recorded — finished items are not processed again.
/// </summary>
[Flow("process-batch", Description = "Processes items one task at a time; survives a crash mid-batch.")]
public sealed class ProcessBatch : Flow<BatchParameters, BatchSummary>
{
    /// <inheritdoc />
    public override async Task<BatchSummary> RunAsync(FlowContext context, BatchParameters input)
    {
        input ??= new BatchParameters();
        if (input.Items is < 0 or > 10_000 || input.DelayMs is < 0 or > 60_000)
        {
            throw new ArgumentOutOfRangeException(nameof(input), "items must be 0-10000 and delayMs 0-60000");
        }

        long checksum = 0;
        for (var i = 1; i <= input.Items; i++)
        {
            checksum += await context.RunTaskAsync($"item-{i}", i, async (task, item) =>
            {
                task.Logger.LogItem(item);
                await Task.Delay(input.DelayMs, task.CancellationToken).ConfigureAwait(false);
                return (long)item * item;
            });
        }

        return new BatchSummary(input.Items, checksum);
    }
}
