using System.Management.Automation;
using HarborOps.Engine.Harbor;

namespace HarborOps.Commands;

/// <summary>The project policy parameters New-HarborProject and Set-HarborProject share.</summary>
public abstract class HarborProjectSettingsCommandBase : HarborCommandBase
{
    /// <summary>Anyone may pull from the project (-Public:$false makes it private).</summary>
    [Parameter]
    public SwitchParameter Public { get; set; }

    /// <summary>Scan every artifact when it is pushed (also replicated or copied ones).</summary>
    [Parameter]
    public SwitchParameter AutoScan { get; set; }

    /// <summary>Refuse pulls of artifacts that were never scanned or are vulnerable at or above -Severity.</summary>
    [Parameter]
    public SwitchParameter PreventVulnerable { get; set; }

    /// <summary>The severity at and above which -PreventVulnerable refuses pulls: None, Low, Medium, High or Critical.</summary>
    [Parameter]
    [ValidateSet("None", "Low", "Medium", "High", "Critical")]
    public string? Severity { get; set; }

    /// <summary>Refuse pulls of artifacts that have no cosign signature.</summary>
    [Parameter]
    public SwitchParameter RequireCosignSignature { get; set; }

    /// <summary>CVE ids the vulnerability gate ignores in this project (replaces the project's list; stops reusing the system list).</summary>
    [Parameter]
    [AllowEmptyCollection]
    public string[]? CveAllowlist { get; set; }

    /// <summary>When the project's CVE allowlist stops applying.</summary>
    [Parameter]
    public DateTimeOffset? CveAllowlistExpiresAt { get; set; }

    /// <summary>Storage quota in GB (decimal: 1 GB = 1024^3 bytes); -1 is unlimited.</summary>
    [Parameter]
    [ValidateRange(-1, 1048576)]
    public double? StorageQuotaGB { get; set; }

    protected HarborProjectSettings Settings() => new()
    {
        Public = Switch(nameof(Public), Public),
        AutoScan = Switch(nameof(AutoScan), AutoScan),
        PreventVulnerable = Switch(nameof(PreventVulnerable), PreventVulnerable),
        Severity = Severity,
        RequireCosignSignature = Switch(nameof(RequireCosignSignature), RequireCosignSignature),
        CveAllowlist = CveAllowlist,
        CveAllowlistExpiresAt = CveAllowlistExpiresAt,
        StorageLimit = StorageLimitOf(StorageQuotaGB),
    };

    /// <summary>A quota in GB as Harbor's bytes; -1 stays unlimited.</summary>
    internal static long? StorageLimitOf(double? storageQuotaGB) => storageQuotaGB switch
    {
        null => null,
        -1 => -1,
        > 0 and var gb => (long)Math.Round(gb * 1024 * 1024 * 1024),
        var other => throw new HarborException(HarborErrorIds.RequestInvalid, Engine.Errors.FailureKind.InvalidArgument,
            $"StorageQuotaGB {other} is neither -1 (unlimited) nor a positive size."),
    };

    /// <summary>The names New-HarborProject's policy parameters have, as -ProjectSettings keys of Copy-RegistryImage.</summary>
    internal static readonly string[] SettingNames =
        [nameof(Public), nameof(AutoScan), nameof(PreventVulnerable), nameof(Severity), nameof(RequireCosignSignature), nameof(CveAllowlist), nameof(CveAllowlistExpiresAt), nameof(StorageQuotaGB)];

    /// <summary>
    /// Project policies given as a hashtable keyed like New-HarborProject's parameters (@{ AutoScan = $true; Severity = 'High' }).
    /// An unknown key or a value of the wrong type fails, naming the key, instead of being ignored.
    /// </summary>
    internal static HarborProjectSettings SettingsFrom(System.Collections.IDictionary table)
    {
        var settings = new HarborProjectSettings();
        foreach (System.Collections.DictionaryEntry entry in table)
        {
            string key = entry.Key?.ToString() ?? "";
            string? name = SettingNames.FirstOrDefault(n => string.Equals(n, key, StringComparison.OrdinalIgnoreCase));
            try
            {
                settings = name switch
                {
                    nameof(Public) => settings with { Public = LanguagePrimitives.ConvertTo<bool>(entry.Value) },
                    nameof(AutoScan) => settings with { AutoScan = LanguagePrimitives.ConvertTo<bool>(entry.Value) },
                    nameof(PreventVulnerable) => settings with { PreventVulnerable = LanguagePrimitives.ConvertTo<bool>(entry.Value) },
                    nameof(Severity) => settings with { Severity = HarborClient.NormalizeSeverity(LanguagePrimitives.ConvertTo<string>(entry.Value)) },
                    nameof(RequireCosignSignature) => settings with { RequireCosignSignature = LanguagePrimitives.ConvertTo<bool>(entry.Value) },
                    nameof(CveAllowlist) => settings with { CveAllowlist = LanguagePrimitives.ConvertTo<string[]>(entry.Value) },
                    nameof(CveAllowlistExpiresAt) => settings with { CveAllowlistExpiresAt = LanguagePrimitives.ConvertTo<DateTimeOffset>(entry.Value) },
                    nameof(StorageQuotaGB) => settings with { StorageLimit = StorageLimitOf(LanguagePrimitives.ConvertTo<double>(entry.Value)) },
                    _ => throw new HarborException(HarborErrorIds.RequestInvalid, Engine.Errors.FailureKind.InvalidArgument,
                        $"-ProjectSettings has an unknown key '{key}'. Use {string.Join(", ", SettingNames)}, as New-HarborProject names them.", key),
                };
            }
            catch (PSInvalidCastException ex)
            {
                throw new HarborException(HarborErrorIds.RequestInvalid, Engine.Errors.FailureKind.InvalidArgument,
                    $"-ProjectSettings key '{key}' has a value of the wrong type: {ex.Message}", key, ex);
            }
        }

        return settings;
    }

    /// <summary>The settings given, for -WhatIf and confirmation text.</summary>
    protected string Describe()
    {
        var parts = new List<string>();
        foreach (string name in new[] { nameof(Public), nameof(AutoScan), nameof(PreventVulnerable), nameof(RequireCosignSignature) })
        {
            if (Given(name))
            {
                parts.Add($"{name}={((SwitchParameter)MyInvocation.BoundParameters[name]).IsPresent}");
            }
        }

        if (Severity is not null) parts.Add($"Severity={Severity}");
        if (CveAllowlist is not null) parts.Add($"CveAllowlist={CveAllowlist.Length} CVEs");
        if (StorageQuotaGB is not null) parts.Add($"StorageQuotaGB={StorageQuotaGB}");
        return parts.Count == 0 ? "no policy changes" : string.Join(", ", parts);
    }
}
