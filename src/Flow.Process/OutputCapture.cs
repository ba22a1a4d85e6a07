using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Flow.Engine.Storage;

namespace Flow.Process;

/// <summary>
/// Turns a subprocess's stdout and stderr into run log lines, line by line in the order they are read, each timestamped
/// when read. Bounded: a line longer than the limit is cut (and says how much was cut); past the per-attempt total, lines
/// are counted but dropped, and one final line says how many.
/// </summary>
internal sealed class OutputCapture
{
    private readonly ConcurrentQueue<RunLogLine> _lines = new();

    // The stdout and stderr pumps add lines concurrently: a line is stamped and queued under one lock, so queue order
    // (the order lines are stored) and timestamps agree; a failed write's lines go back under it too.
    private readonly Lock _order = new();
    private readonly TimeProvider _time;
    private readonly int _maxLine;
    private readonly long _maxTotal;
    private readonly int _attempt;
    private long _total;
    private long _dropped;

    public OutputCapture(TimeProvider time, int maxLine, long maxTotal, int attempt)
    {
        _time = time;
        _maxLine = maxLine;
        _maxTotal = maxTotal;
        _attempt = attempt;
    }

    /// <summary>Lines waiting to be written.</summary>
    public int Pending => _lines.Count;

    /// <summary>Reads a stream to its end.</summary>
    public async Task PumpAsync(StreamReader reader, string level)
    {
        var buffer = new char[8192];
        var line = new StringBuilder();
        var cut = 0L;
        while (true)
        {
            int read;
            try
            {
                read = await reader.ReadAsync(buffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                break;
            }

            if (read == 0)
            {
                break;
            }

            for (var i = 0; i < read; i++)
            {
                var c = buffer[i];
                if (c == '\n')
                {
                    Emit(line, cut, level);
                    line.Clear();
                    cut = 0;
                }
                else if (line.Length < _maxLine)
                {
                    line.Append(c);
                }
                else
                {
                    cut++;
                }
            }
        }

        if (line.Length > 0 || cut > 0)
        {
            Emit(line, cut, level);
        }
    }

    private void Emit(StringBuilder line, long cut, string level)
    {
        if (line.Length > 0 && line[^1] == '\r')
        {
            line.Length--;
        }

        var text = cut > 0 ? line.ToString() + string.Create(CultureInfo.InvariantCulture, $" [... {cut} more characters cut]") : line.ToString();
        if (Interlocked.Add(ref _total, text.Length + 1) > _maxTotal)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        Add(level, text);
    }

    /// <summary>Adds a line of the worker's own (start, stop, outcome).</summary>
    public void AddWorkerLine(string level, string message) => Add(level, message);

    private void Add(string level, string text)
    {
        lock (_order)
        {
            _lines.Enqueue(new RunLogLine(_time.GetUtcNow(), level, text, 0, _attempt));
        }
    }

    /// <summary>Takes up to <paramref name="max"/> lines.</summary>
    public List<RunLogLine> Take(int max)
    {
        var taken = new List<RunLogLine>();
        while (taken.Count < max && _lines.TryPeek(out var line))
        {
            _lines.TryDequeue(out _);
            taken.Add(line);
        }

        return taken;
    }

    /// <summary>Puts lines back at the front after a failed write (keeps their order).</summary>
    public void Return(List<RunLogLine> lines)
    {
        if (lines.Count == 0)
        {
            return;
        }

        lock (_order)
        {
            var rest = new List<RunLogLine>();
            while (_lines.TryDequeue(out var l))
            {
                rest.Add(l);
            }

            foreach (var l in lines.Concat(rest))
            {
                _lines.Enqueue(l);
            }
        }
    }

    /// <summary>After the streams ended: one line saying how many lines the limit dropped, if any.</summary>
    public void Finish()
    {
        if (Interlocked.Read(ref _dropped) is > 0 and var dropped)
        {
            AddWorkerLine("Warning", string.Create(CultureInfo.InvariantCulture, $"Output limit of {_maxTotal} characters per attempt reached: {dropped} more line(s) were not kept."));
        }
    }
}
