using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace HarborOps.Loading;

/// <summary>
/// The private load context that holds the engine and every third-party assembly it uses, so HarborOps can
/// sit in one session with Az.Accounts, Microsoft.Graph or powershell-yaml, which ship other versions of
/// Azure.Core, MSAL, Kiota or YamlDotNet. Pattern: PowerShell's "resolving module assembly dependency
/// conflicts" guidance and the Microsoft.Graph.Authentication loader.
/// </summary>
internal sealed class HarborOpsLoadContext : AssemblyLoadContext
{
    public const string ContextName = "HarborOps";

    /// <summary>Assemblies that must have ONE identity shared with the cmdlets and PowerShell: always from the default context.</summary>
    private static readonly HashSet<string> SharedWithDefaultContext = new(StringComparer.OrdinalIgnoreCase)
    {
        "HarborOps",
        "HarborOps.Models",
        "System.Management.Automation",
        "Microsoft.PowerShell.Commands.Utility",
        "Microsoft.PowerShell.Commands.Management",
        "Microsoft.PowerShell.ConsoleHost",
        "netstandard",
        "mscorlib",
    };

    private static readonly Lazy<Dictionary<string, string>> TrustedPlatformAssemblies = new(ReadTrustedPlatformAssemblies);

    private readonly string _dependencyDirectory;
    private readonly AssemblyDependencyResolver? _resolver;

    public HarborOpsLoadContext(string dependencyDirectory, string engineAssemblyName) : base(ContextName, isCollectible: false)
    {
        _dependencyDirectory = dependencyDirectory;
        // The engine's deps.json knows the runtime-specific assets (runtimes/win/..., native libraries);
        // plain file probing below covers a layout without it.
        string enginePath = Path.Combine(dependencyDirectory, engineAssemblyName + ".dll");
        if (File.Exists(Path.ChangeExtension(enginePath, ".deps.json")))
        {
            _resolver = new AssemblyDependencyResolver(enginePath);
        }
    }

    public string DependencyDirectory => _dependencyDirectory;

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        string? name = assemblyName.Name;
        if (name is null || SharedWithDefaultContext.Contains(name))
        {
            return null;
        }

        string candidate = _resolver?.ResolveAssemblyToPath(assemblyName) ?? Path.Combine(_dependencyDirectory, name + ".dll");
        if (!File.Exists(candidate))
        {
            // Returning null (rather than throwing) lets the default context try: the documented fix of
            // PowerShell-Docs issue #8481.
            return null;
        }

        // Runtime assemblies (System.*, Microsoft.Extensions.* that the runtime ships) come from the default
        // context unless we ship a strictly newer one: two identities of e.g. System.Memory types across the
        // boundary would break calls between the engine and the runtime.
        if (TrustedPlatformAssemblies.Value.TryGetValue(name, out string? platformPath)
            && !IsStrictlyNewer(candidate, platformPath))
        {
            return null;
        }

        return LoadFromAssemblyPath(candidate);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        if (_resolver?.ResolveUnmanagedDllToPath(unmanagedDllName) is { } resolved)
        {
            return LoadUnmanagedDllFromPath(resolved);
        }

        string rid = RuntimeInformation.RuntimeIdentifier;
        foreach (string fileName in NativeFileNames(unmanagedDllName))
        {
            foreach (string directory in new[] { Path.Combine(_dependencyDirectory, "runtimes", rid, "native"), _dependencyDirectory })
            {
                string candidate = Path.Combine(directory, fileName);
                if (File.Exists(candidate))
                {
                    return LoadUnmanagedDllFromPath(candidate);
                }
            }
        }

        return IntPtr.Zero;
    }

    private static IEnumerable<string> NativeFileNames(string name)
    {
        yield return name;
        if (OperatingSystem.IsWindows())
        {
            yield return name + ".dll";
        }
        else if (OperatingSystem.IsMacOS())
        {
            yield return "lib" + name + ".dylib";
            yield return name + ".dylib";
        }
        else
        {
            yield return "lib" + name + ".so";
            yield return name + ".so";
        }
    }

    private static bool IsStrictlyNewer(string shippedPath, string platformPath)
    {
        try
        {
            Version? shipped = AssemblyName.GetAssemblyName(shippedPath).Version;
            Version? platform = AssemblyName.GetAssemblyName(platformPath).Version;
            return shipped is not null && platform is not null && shipped > platform;
        }
        catch (Exception ex) when (ex is IOException or BadImageFormatException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static Dictionary<string, string> ReadTrustedPlatformAssemblies()
    {
        var byName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string list)
        {
            foreach (string path in list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                byName.TryAdd(Path.GetFileNameWithoutExtension(path), path);
            }
        }

        return byName;
    }
}
