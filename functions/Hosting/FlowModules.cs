using System.Reflection;
using Flow.Sdk;

namespace Flow.Functions.Hosting;

/// <summary>Loads the flow modules (<see cref="IFlowModule"/>) of the assemblies named in <c>Flow:App:FlowAssemblies</c>.</summary>
internal static class FlowModules
{
    /// <summary>Loads each assembly and creates each public, non-abstract <see cref="IFlowModule"/> in it, in name order.</summary>
    /// <param name="paths">The assemblies' paths, relative to the working directory.</param>
    /// <returns>The modules.</returns>
    /// <exception cref="InvalidOperationException">An assembly is missing, cannot be loaded or has no module; the message names the setting.</exception>
    public static IReadOnlyList<IFlowModule> Load(IReadOnlyList<string> paths)
    {
        var modules = new List<IFlowModule>();
        for (var i = 0; i < paths.Count; i++)
        {
            var setting = $"{FlowAppOptions.SectionName}:FlowAssemblies:{i}";
            var path = Path.GetFullPath(paths[i]);
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"{setting} is '{paths[i]}', which does not exist (build the flows' project first).");
            }

            Assembly assembly;
            try
            {
                assembly = Assembly.LoadFrom(path);
            }
            catch (Exception e) when (e is BadImageFormatException or FileLoadException)
            {
                throw new InvalidOperationException($"{setting}: '{path}' is not a loadable .NET assembly ({e.Message}).", e);
            }

            var found = assembly.GetExportedTypes()
                .Where(t => typeof(IFlowModule).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false } && t.GetConstructor(Type.EmptyTypes) is not null)
                .OrderBy(t => t.FullName, StringComparer.Ordinal)
                .Select(t => (IFlowModule)Activator.CreateInstance(t)!)
                .ToList();
            if (found.Count == 0)
            {
                throw new InvalidOperationException($"{setting}: '{path}' has no public {nameof(IFlowModule)} class with a parameterless constructor.");
            }

            modules.AddRange(found);
        }

        return modules;
    }
}
