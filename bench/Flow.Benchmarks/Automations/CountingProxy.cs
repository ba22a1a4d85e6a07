using System.Reflection;

namespace Flow.Benchmarks.Automations;

/// <summary>Counts the calls made through an interface (one store call is one round trip on Azure and PostgreSQL).</summary>
/// <typeparam name="T">The interface.</typeparam>
public class CountingProxy<T> : DispatchProxy
    where T : class
{
    private T? _inner;
    private long _calls;

    /// <summary>The calls so far.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The real implementation.</param>
    /// <returns>The counting wrapper and its counter.</returns>
    public static (T Proxy, CountingProxy<T> Counter) Wrap(T inner)
    {
        var proxy = Create<T, CountingProxy<T>>();
        var counter = (CountingProxy<T>)(object)proxy;
        counter._inner = inner;
        return (proxy, counter);
    }

    /// <inheritdoc />
    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        Interlocked.Increment(ref _calls);
        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}
