namespace Flow.ControlPlane.Automations;

/// <summary>Options of the automation evaluator and dispatcher (section <c>Flow:Automations</c>).</summary>
public sealed class AutomationOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Flow:Automations";

    /// <summary>Standalone: how often the evaluator reads the event feed. Default 250 ms (reactive automations act well within 2 s).
    /// Under Functions the evaluator runs on the scheduler's timer tick instead.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How many events one feed read returns (1-1000). Default 500.</summary>
    public int FeedPageSize { get; set; } = 500;

    /// <summary>The most feed pages one tick reads (the rest wait for the next tick). Default 20.</summary>
    public int MaxPagesPerTick { get; set; } = 20;

    /// <summary>How long after a proactive deadline the evaluator waits for late expected events before firing. Default 2 seconds.</summary>
    public TimeSpan ProactiveGrace { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The timeout of one webhook delivery attempt. Default 10 seconds.</summary>
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The delay before an action's second attempt; it doubles with each attempt up to <see cref="MaxRetryDelay"/>. Default 2 seconds.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest delay between attempts. Default 5 minutes.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The most attempts of an action without its own <see cref="AutomationAction.MaxAttempts"/>. Default 5.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        Check(PollInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(5), nameof(PollInterval));
        Check(ProactiveGrace, TimeSpan.Zero, TimeSpan.FromMinutes(10), nameof(ProactiveGrace));
        Check(WebhookTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5), nameof(WebhookTimeout));
        Check(RetryDelay, TimeSpan.Zero, TimeSpan.FromHours(1), nameof(RetryDelay));
        Check(MaxRetryDelay, RetryDelay, TimeSpan.FromDays(1), nameof(MaxRetryDelay));
        if (FeedPageSize is < 1 or > 1000 || MaxPagesPerTick is < 1 or > 1000 || MaxAttempts is < 1 or > 20)
        {
            throw new ArgumentException($"{SectionName}: FeedPageSize must be 1-1000, MaxPagesPerTick 1-1000 and MaxAttempts 1-20.", nameof(FeedPageSize));
        }
    }

    private static void Check(TimeSpan value, TimeSpan min, TimeSpan max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentException($"{SectionName}:{name} is {value}; use {min} to {max}.", name);
        }
    }
}
