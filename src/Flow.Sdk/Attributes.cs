namespace Flow.Sdk;

/// <summary>Names a flow class (and gives its version and description). Without it the class name is the flow name.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class FlowAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="name">The flow name: 1-100 characters of letters, digits, '-', '_' and '.'.</param>
    public FlowAttribute(string name) => Name = name;

    /// <summary>The flow name.</summary>
    public string Name { get; }

    /// <summary>The flow version, recorded with each run.</summary>
    public string? Version { get; set; }

    /// <summary>A description.</summary>
    public string? Description { get; set; }
}

/// <summary>Names a task class. Without it the class name is the task name.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class FlowTaskAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="name">The task name: 1-100 characters of letters, digits, '-', '_' and '.'.</param>
    public FlowTaskAttribute(string name) => Name = name;

    /// <summary>The task name.</summary>
    public string Name { get; }
}
