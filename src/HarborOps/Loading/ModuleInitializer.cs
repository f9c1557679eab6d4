using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace HarborOps.Loading;

/// <summary>
/// Runs when PowerShell imports HarborOps.dll: routes the one assembly name "HarborOps.Engine" from the
/// default context into the private <see cref="HarborOpsLoadContext"/>. This class must never touch an
/// engine type: the engine can only be resolved once this hook exists.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    internal const string EngineAssemblyName = "HarborOps.Engine";
    internal const string DependencyFolderName = "Dependencies";

    private static readonly object Gate = new();
    private static HarborOpsLoadContext? ActiveLoadContext;
    private static int ImportCount;

    /// <summary>The private context, created on first import and kept for the life of the process.</summary>
    internal static HarborOpsLoadContext? LoadContext => ActiveLoadContext;

    public void OnImport()
    {
        // Each runspace that imports the module calls this (ForEach-Object -Parallel does it per thread),
        // so the hook is installed once and counted.
        lock (Gate)
        {
            if (ActiveLoadContext is null)
            {
                string moduleDirectory = Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)
                    ?? throw new InvalidOperationException("HarborOps.dll has no location on disk; import the module from its folder.");
                ActiveLoadContext = new HarborOpsLoadContext(Path.Combine(moduleDirectory, DependencyFolderName), EngineAssemblyName);
            }

            if (ImportCount++ == 0)
            {
                AssemblyLoadContext.Default.Resolving += ResolveEngine;
            }
        }
    }

    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        lock (Gate)
        {
            // Other runspaces may still run HarborOps cmdlets; only the last removal unhooks. An engine
            // already bound stays bound (the cmdlet assembly cannot unload), so unhooking never breaks it.
            if (ImportCount > 0 && --ImportCount == 0)
            {
                AssemblyLoadContext.Default.Resolving -= ResolveEngine;
            }
        }
    }

    private static Assembly? ResolveEngine(AssemblyLoadContext context, AssemblyName name)
    {
        // Answer for the engine only: everything else the engine needs resolves inside the private context,
        // and other modules' failed loads are none of our business.
        if (!string.Equals(name.Name, EngineAssemblyName, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        HarborOpsLoadContext? loadContext = ActiveLoadContext;
        if (loadContext is null || !File.Exists(Path.Combine(loadContext.DependencyDirectory, EngineAssemblyName + ".dll")))
        {
            // A broken layout: let the runtime report the engine as missing instead of throwing from a hook.
            return null;
        }

        return loadContext.LoadFromAssemblyName(name);
    }
}
