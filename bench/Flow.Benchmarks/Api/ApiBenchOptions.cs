using System.Globalization;

namespace Flow.Benchmarks.Api;

/// <summary>Settings of <c>Flow.Benchmarks api</c>.</summary>
internal sealed record ApiBenchOptions
{
    public const string Usage =
        "Options: --requests-per-second N (100), --duration S (20), --runs N (100000), --schedule-seconds S (30), " +
        "--list-requests N (200), --seed-parallelism N (32), --idle-seconds S (5), --build, --output FILE.";

    /// <summary>Trigger phase: requests sent per second, open loop.</summary>
    public double RequestsPerSecond { get; init; } = 100;

    /// <summary>Trigger phase: how long requests are sent.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>List phase: runs written into the store before the list queries are timed.</summary>
    public int Runs { get; init; } = 100_000;

    /// <summary>Schedule phase: how long the every-second schedule runs before it is paused.</summary>
    public TimeSpan ScheduleDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>List phase: requests per query (sequential).</summary>
    public int ListRequests { get; init; } = 200;

    /// <summary>List phase: concurrent run creations while seeding.</summary>
    public int SeedParallelism { get; init; } = 32;

    /// <summary>How long the app idles after it is healthy before its memory is read.</summary>
    public TimeSpan Idle { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Build Flow.Functions first even when its build output exists.</summary>
    public bool Build { get; init; }

    public string? Output { get; init; }

    public static ApiBenchOptions Parse(string[] args)
    {
        var o = new ApiBenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            double NextPositive()
            {
                var name = args[i];
                var value = double.Parse(Next(), CultureInfo.InvariantCulture);
                return value > 0 ? value : throw new ArgumentException($"{name} must be positive.");
            }

            o = args[i] switch
            {
                "--requests-per-second" => o with { RequestsPerSecond = NextPositive() },
                "--duration" => o with { Duration = TimeSpan.FromSeconds(NextPositive()) },
                "--runs" => o with { Runs = (int)NextPositive() },
                "--schedule-seconds" => o with { ScheduleDuration = TimeSpan.FromSeconds(NextPositive()) },
                "--list-requests" => o with { ListRequests = (int)NextPositive() },
                "--seed-parallelism" => o with { SeedParallelism = (int)NextPositive() },
                "--idle-seconds" => o with { Idle = TimeSpan.FromSeconds(NextPositive()) },
                "--build" => o with { Build = true },
                "--output" => o with { Output = Next() },
                _ => throw new ArgumentException($"Unknown option {args[i]}. {Usage}"),
            };
        }

        return o;
    }
}
