using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;

namespace Flow.Sdk;

/// <summary>Name rules and name lookup for flows and tasks.</summary>
public static partial class FlowNames
{
    /// <summary>Checks a flow or task name: 1-100 characters of letters, digits, '-', '_' and '.'.</summary>
    /// <param name="name">The name.</param>
    /// <param name="what">What is named, for the message ("flow", "task").</param>
    /// <exception cref="ArgumentException">The name breaks the rule.</exception>
    public static void Validate(string name, string what)
    {
        if (string.IsNullOrEmpty(name) || !NamePattern().IsMatch(name))
        {
            throw new ArgumentException($"The {what} name '{name}' is not valid: use 1-100 characters of letters, digits, '-', '_' and '.'.", nameof(name));
        }
    }

    /// <summary>The name of a flow type: its <see cref="FlowAttribute"/> name, else the class name.</summary>
    /// <param name="flowType">The flow type.</param>
    /// <returns>The name.</returns>
    public static string FlowName(Type flowType)
    {
        ArgumentNullException.ThrowIfNull(flowType);
        return flowType.GetCustomAttribute<FlowAttribute>()?.Name ?? flowType.Name;
    }

    /// <summary>The name of a task type: its <see cref="FlowTaskAttribute"/> name, else the class name.</summary>
    /// <param name="taskType">The task type.</param>
    /// <returns>The name.</returns>
    public static string TaskName(Type taskType)
    {
        ArgumentNullException.ThrowIfNull(taskType);
        return taskType.GetCustomAttribute<FlowTaskAttribute>()?.Name ?? taskType.Name;
    }

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,100}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}

/// <summary>A registered flow: its name, types, options and how to invoke it. Built by <see cref="FlowRegistry"/>.</summary>
public sealed class FlowDefinition
{
    internal FlowDefinition(string name, Type inputType, Type outputType, FlowOptions options, Func<IServiceProvider, FlowContext, object?, Task<object?>> invoke, Func<IServiceProvider, FlowOptions>? optionsFromInstance)
    {
        Name = name;
        InputType = inputType;
        OutputType = outputType;
        Options = options;
        Invoke = invoke;
        OptionsFromInstance = optionsFromInstance;
    }

    /// <summary>The flow name.</summary>
    public string Name { get; }

    /// <summary>The input type.</summary>
    public Type InputType { get; }

    /// <summary>The result type.</summary>
    public Type OutputType { get; }

    /// <summary>The options given at registration (a flow class's own <see cref="Flow{TInput, TOutput}.Options"/> are read per run).</summary>
    public FlowOptions Options { get; }

    /// <summary>Runs the flow code: (services, context, input) → result.</summary>
    public Func<IServiceProvider, FlowContext, object?, Task<object?>> Invoke { get; }

    private Func<IServiceProvider, FlowOptions>? OptionsFromInstance { get; }

    /// <summary>The effective options: the class's <see cref="Flow{TInput, TOutput}.Options"/> for flow classes, else the registered ones.</summary>
    /// <param name="services">The services to create the flow instance with.</param>
    /// <returns>The options.</returns>
    public FlowOptions GetOptions(IServiceProvider services) => OptionsFromInstance?.Invoke(services) ?? Options;
}

/// <summary>A registered task: its name, types, default options and how to invoke it.</summary>
public sealed class TaskDefinition
{
    internal TaskDefinition(string name, Type inputType, Type outputType, TaskOptions options, Func<IServiceProvider, TaskContext, object?, Task<object?>> invoke)
    {
        Name = name;
        InputType = inputType;
        OutputType = outputType;
        Options = options;
        Invoke = invoke;
    }

    /// <summary>The task name.</summary>
    public string Name { get; }

    /// <summary>The input type.</summary>
    public Type InputType { get; }

    /// <summary>The result type.</summary>
    public Type OutputType { get; }

    /// <summary>The default options of calls.</summary>
    public TaskOptions Options { get; }

    /// <summary>Runs the task code: (services, context, input) → result.</summary>
    public Func<IServiceProvider, TaskContext, object?, Task<object?>> Invoke { get; }
}

/// <summary>
/// The flows and tasks an application offers, by name. Chainable:
/// <c>registry.AddFlow&lt;EtlFlow&gt;().AddTask&lt;Extract&gt;().AddFlow&lt;int, int&gt;("double", (ctx, x) =&gt; Task.FromResult(x * 2))</c>.
/// </summary>
public sealed class FlowRegistry
{
    private readonly Dictionary<string, FlowDefinition> _flows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskDefinition> _tasks = new(StringComparer.Ordinal);

    /// <summary>The JSON options for parameters, inputs and results (web defaults: camelCase, case-insensitive reads).</summary>
    public JsonSerializerOptions SerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>The registered flows.</summary>
    public IReadOnlyCollection<FlowDefinition> Flows => _flows.Values;

    /// <summary>The registered tasks.</summary>
    public IReadOnlyCollection<TaskDefinition> Tasks => _tasks.Values;

    /// <summary>Registers a flow class (created through dependency injection for each episode).</summary>
    /// <typeparam name="TFlow">The flow type.</typeparam>
    /// <returns>This registry.</returns>
    public FlowRegistry AddFlow<TFlow>()
        where TFlow : class
    {
        var type = typeof(TFlow);
        var baseType = FindGenericBase(type, typeof(Flow<,>))
            ?? throw new ArgumentException($"{type.FullName} does not derive from Flow<TInput, TOutput>.");
        var args = baseType.GetGenericArguments();
        var method = typeof(FlowRegistry).GetMethod(nameof(AddFlowClass), BindingFlags.NonPublic | BindingFlags.Instance)!
            .MakeGenericMethod(type, args[0], args[1]);
        method.Invoke(this, null);
        return this;
    }

    /// <summary>Registers a flow given as a lambda.</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <typeparam name="TOutput">The result type.</typeparam>
    /// <param name="name">The flow name.</param>
    /// <param name="run">The flow code (the rules of <see cref="FlowContext"/> apply).</param>
    /// <param name="options">The options, or null for the defaults.</param>
    /// <returns>This registry.</returns>
    public FlowRegistry AddFlow<TInput, TOutput>(string name, Func<FlowContext, TInput, Task<TOutput>> run, FlowOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        FlowNames.Validate(name, "flow");
        Add(_flows, name, "flow", new FlowDefinition(name, typeof(TInput), typeof(TOutput), options ?? FlowOptions.Default,
            async (_, ctx, input) => await run(ctx, (TInput)input!).ConfigureAwait(true), null));
        return this;
    }

    /// <summary>Registers a task class (created through dependency injection for each attempt).</summary>
    /// <typeparam name="TTask">The task type.</typeparam>
    /// <returns>This registry.</returns>
    public FlowRegistry AddTask<TTask>()
        where TTask : class
    {
        var type = typeof(TTask);
        var baseType = FindGenericBase(type, typeof(FlowTask<,>))
            ?? throw new ArgumentException($"{type.FullName} does not derive from FlowTask<TInput, TOutput>.");
        var args = baseType.GetGenericArguments();
        var method = typeof(FlowRegistry).GetMethod(nameof(AddTaskClass), BindingFlags.NonPublic | BindingFlags.Instance)!
            .MakeGenericMethod(type, args[0], args[1]);
        method.Invoke(this, null);
        return this;
    }

    /// <summary>Registers a task given as a lambda, callable by name from any flow (and distributable).</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <typeparam name="TOutput">The result type.</typeparam>
    /// <param name="name">The task name.</param>
    /// <param name="run">The task code.</param>
    /// <param name="options">The default options of calls, or null.</param>
    /// <returns>This registry.</returns>
    public FlowRegistry AddTask<TInput, TOutput>(string name, Func<TaskContext, TInput, Task<TOutput>> run, TaskOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        FlowNames.Validate(name, "task");
        Add(_tasks, name, "task", new TaskDefinition(name, typeof(TInput), typeof(TOutput), options ?? TaskOptions.Default,
            async (_, ctx, input) => await run(ctx, (TInput)input!).ConfigureAwait(false)));
        return this;
    }

    /// <summary>Finds a flow by name.</summary>
    /// <param name="name">The name.</param>
    /// <param name="flow">The flow, when found.</param>
    /// <returns>Whether it was found.</returns>
    public bool TryGetFlow(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FlowDefinition? flow) => _flows.TryGetValue(name, out flow);

    /// <summary>Finds a task by name.</summary>
    /// <param name="name">The name.</param>
    /// <param name="task">The task, when found.</param>
    /// <returns>Whether it was found.</returns>
    public bool TryGetTask(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TaskDefinition? task) => _tasks.TryGetValue(name, out task);

    private void AddFlowClass<TFlow, TInput, TOutput>()
        where TFlow : Flow<TInput, TOutput>
    {
        var name = FlowNames.FlowName(typeof(TFlow));
        FlowNames.Validate(name, "flow");
        var attribute = typeof(TFlow).GetCustomAttribute<FlowAttribute>();
        var options = FlowOptions.Default with { Version = attribute?.Version, Description = attribute?.Description };
        Add(_flows, name, "flow", new FlowDefinition(name, typeof(TInput), typeof(TOutput), options,
            async (services, ctx, input) =>
            {
                var flow = ActivatorUtilities.GetServiceOrCreateInstance<TFlow>(services);
                return await flow.RunAsync(ctx, (TInput)input!).ConfigureAwait(true);
            },
            services =>
            {
                var own = ActivatorUtilities.GetServiceOrCreateInstance<TFlow>(services).Options;
                return own with { Version = own.Version ?? attribute?.Version, Description = own.Description ?? attribute?.Description };
            }));
    }

    private void AddTaskClass<TTask, TInput, TOutput>()
        where TTask : FlowTask<TInput, TOutput>
    {
        var name = FlowNames.TaskName(typeof(TTask));
        FlowNames.Validate(name, "task");
        TaskOptions options;
        try
        {
            // A parameterless constructor runs field initializers (Options { get; } = ...); a class that needs services is
            // read without running its constructor, so its Options must not depend on constructor or field state.
            var instance = typeof(TTask).GetConstructor(Type.EmptyTypes) is not null
                ? (TTask)Activator.CreateInstance(typeof(TTask))!
                : (TTask)System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(typeof(TTask));
            options = instance.Options ?? TaskOptions.Default;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            options = TaskOptions.Default;
        }

        Add(_tasks, name, "task", new TaskDefinition(name, typeof(TInput), typeof(TOutput), options,
            async (services, ctx, input) =>
            {
                var task = ActivatorUtilities.GetServiceOrCreateInstance<TTask>(services);
                return await task.RunAsync(ctx, (TInput)input!).ConfigureAwait(false);
            }));
    }

    private static void Add<T>(Dictionary<string, T> map, string name, string what, T definition)
    {
        if (!map.TryAdd(name, definition))
        {
            throw new ArgumentException($"A {what} named '{name}' is already registered.");
        }
    }

    private static Type? FindGenericBase(Type type, Type generic)
    {
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (t.IsGenericType && t.GetGenericTypeDefinition() == generic)
            {
                return t;
            }
        }

        return null;
    }
}

/// <summary>What <c>AddFlow</c> returns, for chaining storage and host registrations.</summary>
public interface IFlowBuilder
{
    /// <summary>The service collection.</summary>
    IServiceCollection Services { get; }

    /// <summary>The registry.</summary>
    FlowRegistry Registry { get; }
}

/// <summary>Dependency injection registration of flows and tasks.</summary>
public static class FlowServiceCollectionExtensions
{
    /// <summary>Registers flows and tasks: <c>services.AddFlow(r =&gt; r.AddFlow&lt;EtlFlow&gt;().AddTask&lt;Extract&gt;())</c>. May be called more than once; the registrations add up.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adds flows and tasks to the registry.</param>
    /// <returns>A builder for further registrations (storage, host).</returns>
    public static IFlowBuilder AddFlow(this IServiceCollection services, Action<FlowRegistry>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var existing = services.FirstOrDefault(d => d.ServiceType == typeof(FlowRegistry))?.ImplementationInstance as FlowRegistry;
        var registry = existing ?? new FlowRegistry();
        if (existing is null)
        {
            services.AddSingleton(registry);
        }

        configure?.Invoke(registry);
        return new Builder(services, registry);
    }

    private sealed record Builder(IServiceCollection Services, FlowRegistry Registry) : IFlowBuilder;
}
