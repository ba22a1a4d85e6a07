using Flow.Sdk;

namespace Flow.Engine.Runs;

/// <summary>A state transition the state machine does not allow.</summary>
public sealed class InvalidStateTransitionException : FlowException
{
    /// <summary>Creates the exception.</summary>
    public InvalidStateTransitionException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public InvalidStateTransitionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public InvalidStateTransitionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a transition.</summary>
    /// <param name="from">The current state.</param>
    /// <param name="to">The refused next state.</param>
    public InvalidStateTransitionException(RunState from, RunState to)
        : base($"A run cannot go from {from} to {to}; from {from} it may go to: {string.Join(", ", RunStateMachine.Next(from))}.")
    {
        From = from;
        To = to;
    }

    /// <summary>The current state.</summary>
    public RunState From { get; }

    /// <summary>The refused next state.</summary>
    public RunState To { get; }
}
