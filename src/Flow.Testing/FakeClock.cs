using System.Globalization;

namespace Flow.Testing;

/// <summary>
/// A <see cref="TimeProvider"/> whose clock moves only when a test moves it (<see cref="Advance"/>, <see cref="SetUtcNow"/>),
/// firing the timers it passes in due order. The test host moves it to the next due timer whenever the flow is idle, so
/// sleeps, retry delays and timeouts take no real time; Flow's own tests use it too.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><description>Time never goes backwards: <see cref="SetUtcNow"/> and <see cref="Advance"/> reject it (timestamps stay monotonic).</description></item>
/// <item><description><see cref="GetTimestamp"/> is <see cref="GetUtcNow"/> in ticks (<see cref="TimestampFrequency"/> = 10,000,000/s),
/// so elapsed-time measurements agree with the clock.</description></item>
/// <item><description>Timers from <see cref="CreateTimer"/> fire synchronously, on the thread that moves the clock, in due-time order
/// (ties in creation order); while a callback runs, <see cref="GetUtcNow"/> is that timer's due time. A periodic timer
/// re-arms at due time + period and fires once per period passed. A timer whose due time is already reached when it is
/// created or changed fires at once, synchronously.</description></item>
/// </list>
/// </remarks>
public sealed class FakeClock : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<FakeTimer> _timers = [];
    private DateTimeOffset _utcNow;
    private TimeZoneInfo _localTimeZone = TimeZoneInfo.Utc;
    private long _timerSequence;

    /// <summary>Starts the clock at <paramref name="startUtc"/>, or 2030-01-01T00:00:00Z when null.</summary>
    public FakeClock(DateTimeOffset? startUtc = null)
    {
        _utcNow = (startUtc ?? new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero)).ToUniversalTime();
    }

    /// <summary>The current time; setting it is the same as <see cref="SetUtcNow"/>.</summary>
    public DateTimeOffset UtcNow
    {
        get => GetUtcNow();
        set => SetUtcNow(value);
    }

    /// <summary>The local time zone reported by <see cref="LocalTimeZone"/> (UTC unless set).</summary>
    public TimeZoneInfo LocalTimeZoneSetting
    {
        get
        {
            lock (_gate)
            {
                return _localTimeZone;
            }
        }

        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (_gate)
            {
                _localTimeZone = value;
            }
        }
    }

    /// <inheritdoc />
    public override TimeZoneInfo LocalTimeZone => LocalTimeZoneSetting;

    /// <summary>Ticks per second of <see cref="GetTimestamp"/>: <see cref="TimeSpan.TicksPerSecond"/>.</summary>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>The number of timers that are armed (not disposed, due time not infinite).</summary>
    public int ActiveTimerCount
    {
        get
        {
            lock (_gate)
            {
                return _timers.Count(t => t.DueAt is not null);
            }
        }
    }

    /// <summary>When the next active timer fires, or null.</summary>
    public DateTimeOffset? NextTimerDue
    {
        get
        {
            lock (_gate)
            {
                return _timers.Where(t => t.DueAt is not null).Min(t => t.DueAt);
            }
        }
    }

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _utcNow;
        }
    }

    /// <inheritdoc />
    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    /// <summary>Sets the local time zone (by IANA or Windows id).</summary>
    public void SetLocalTimeZone(string timeZoneId) => LocalTimeZoneSetting = TimeZoneInfo.FindSystemTimeZoneById(timeZoneId);

    /// <summary>Moves the clock forward by <paramref name="delta"/>, firing every timer that comes due on the way.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is negative.</exception>
    public void Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        DateTimeOffset target;
        lock (_gate)
        {
            target = _utcNow + delta;
        }

        MoveTo(target);
    }

    /// <summary>Moves the clock to <paramref name="value"/>, firing every timer that comes due on the way.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is earlier than the current time.</exception>
    public void SetUtcNow(DateTimeOffset value)
    {
        lock (_gate)
        {
            if (value < _utcNow)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, $"Time cannot go backwards (now {_utcNow:O}).");
            }
        }

        MoveTo(value.ToUniversalTime());
    }

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new FakeTimer(this, callback, state);
        lock (_gate)
        {
            _timers.Add(timer);
        }

        timer.Change(dueTime, period);
        return timer;
    }

    /// <inheritdoc />
    public override string ToString() => GetUtcNow().ToString("O", CultureInfo.InvariantCulture);

    private void MoveTo(DateTimeOffset target)
    {
        while (true)
        {
            FakeTimer? next;
            lock (_gate)
            {
                next = _timers
                    .Where(t => t.DueAt is { } due && due <= target)
                    .OrderBy(t => t.DueAt)
                    .ThenBy(t => t.Sequence)
                    .FirstOrDefault();
                if (next is null)
                {
                    if (target > _utcNow)
                    {
                        _utcNow = target;
                    }

                    return;
                }

                if (next.DueAt > _utcNow)
                {
                    _utcNow = next.DueAt.Value;
                }

                next.Rearm();
            }

            next.Invoke();
        }
    }

    private void FireDue() => MoveTo(GetUtcNow());

    private sealed class FakeTimer(FakeClock owner, TimerCallback callback, object? state) : ITimer
    {
        private TimeSpan _period;

        public DateTimeOffset? DueAt { get; private set; }

        public long Sequence { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            ValidateSpan(dueTime, nameof(dueTime));
            ValidateSpan(period, nameof(period));
            lock (owner._gate)
            {
                if (!owner._timers.Contains(this))
                {
                    return false; // disposed
                }

                _period = period;
                DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : owner._utcNow + dueTime;
                Sequence = ++owner._timerSequence;
            }

            if (dueTime == TimeSpan.Zero)
            {
                owner.FireDue();
            }

            return true;
        }

        /// <summary>Called under the owner's lock when the timer fires: re-arm a periodic timer, disarm a one-shot one.</summary>
        public void Rearm()
        {
            DueAt = _period == Timeout.InfiniteTimeSpan || _period == TimeSpan.Zero ? null : DueAt + _period;
        }

        public void Invoke() => callback(state);

        public void Dispose()
        {
            lock (owner._gate)
            {
                owner._timers.Remove(this);
                DueAt = null;
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        private static void ValidateSpan(TimeSpan value, string name)
        {
            if (value < TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(name, value, "Must be non-negative or Timeout.InfiniteTimeSpan.");
            }
        }
    }
}
