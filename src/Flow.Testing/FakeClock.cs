namespace Flow.Testing;

/// <summary>
/// A clock that only moves when told to (<see cref="Advance"/>, <see cref="SetUtcNow"/>), firing the
/// timers it passes in due order. The test host moves it to the next due timer whenever the flow is
/// idle, so sleeps, retry delays and timeouts take no real time.
/// </summary>
public sealed class FakeClock : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<FakeTimer> _timers = [];
    private DateTimeOffset _now;

    /// <summary>Creates the clock.</summary>
    /// <param name="start">The starting time; null for 2030-01-01T00:00:00Z.</param>
    public FakeClock(DateTimeOffset? start = null) => _now = start ?? new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    /// <inheritdoc />
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>When the next active timer fires, or null.</summary>
    public DateTimeOffset? NextTimerDue
    {
        get
        {
            lock (_gate)
            {
                return _timers.Count == 0 ? null : _timers.Min(t => t.Due);
            }
        }
    }

    /// <summary>Moves the clock forward, firing due timers in order.</summary>
    /// <param name="delta">How far (not negative).</param>
    public void Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        SetUtcNow(GetUtcNow() + delta);
    }

    /// <summary>Moves the clock to a time (not backwards), firing due timers in order.</summary>
    /// <param name="time">The new time.</param>
    public void SetUtcNow(DateTimeOffset time)
    {
        while (true)
        {
            FakeTimer? due;
            lock (_gate)
            {
                if (time < _now)
                {
                    throw new ArgumentOutOfRangeException(nameof(time), time, "The clock does not go backwards.");
                }

                due = _timers.Where(t => t.Due <= time).OrderBy(t => t.Due).FirstOrDefault();
                if (due is null)
                {
                    _now = time;
                    return;
                }

                if (due.Due > _now)
                {
                    _now = due.Due;
                }

                due.Rearm();
            }

            due.Fire();
        }
    }

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new FakeTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class FakeTimer : ITimer
    {
        private readonly FakeClock _clock;
        private readonly TimerCallback _callback;
        private readonly object? _state;
        private TimeSpan _period;

        public FakeTimer(FakeClock clock, TimerCallback callback, object? state)
        {
            _clock = clock;
            _callback = callback;
            _state = state;
        }

        public DateTimeOffset Due { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (_clock._gate)
            {
                _clock._timers.Remove(this);
                _period = period;
                if (dueTime == Timeout.InfiniteTimeSpan)
                {
                    return true;
                }

                Due = _clock._now + (dueTime < TimeSpan.Zero ? TimeSpan.Zero : dueTime);
                _clock._timers.Add(this);
            }

            return true;
        }

        // Called under the clock's lock: take the timer out, or move it to its next period.
        public void Rearm()
        {
            _clock._timers.Remove(this);
            if (_period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan)
            {
                Due += _period;
                _clock._timers.Add(this);
            }
        }

        public void Fire() => _callback(_state);

        public void Dispose()
        {
            lock (_clock._gate)
            {
                _clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
