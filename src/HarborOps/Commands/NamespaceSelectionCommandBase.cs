using System.Management.Automation;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Rotation;

namespace HarborOps.Commands;

/// <summary>
/// Base of the Kubernetes cmdlets that pick namespaces by name or label: -Namespace and -NamespaceSelector. What
/// omitting both means differs per cmdlet, so a cmdlet says it in a &lt;parameter name="Namespace"&gt; element of its own
/// doc comment, which the help generation prefers to the summary here.
/// </summary>
public abstract class NamespaceFilterCommandBase : KubeCommandBase
{
    /// <summary>Namespaces by name; wildcards (team-*) list the cluster's namespaces and keep the matching ones.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.KubeNamespaceCompleter))]
    public virtual string[]? Namespace { get; set; }

    /// <summary>Namespaces whose labels match this selector, in the API server's syntax (team=payments,env!=dev or tier in (gold,silver),!legacy).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NamespaceSelector { get; set; }
}

/// <summary>
/// Base of the Kubernetes cmdlets that can also take every namespace (-AllNamespaces), with the selection as the
/// engine takes it.
/// </summary>
public abstract class NamespaceSelectionCommandBase : NamespaceFilterCommandBase
{
    /// <summary>Every namespace of the cluster.</summary>
    [Parameter]
    public SwitchParameter AllNamespaces { get; set; }

    /// <summary>Whether -Namespace, -NamespaceSelector or -AllNamespaces was given.</summary>
    protected bool NamespacesChosen => Namespace is not null || NamespaceSelector is not null || AllNamespaces;

    /// <summary>The namespace selection as the engine takes it, or null when none was given.</summary>
    protected NamespaceSelection? Selection() =>
        NamespacesChosen ? new NamespaceSelection { Names = Namespace ?? [], LabelSelector = NamespaceSelector, All = AllNamespaces } : null;

    /// <summary>The namespace selection, for the cmdlets that must not guess which namespaces to change.</summary>
    protected NamespaceSelection RequiredSelection(string? target) =>
        Selection() ?? throw new PullSecretException(PullSecretErrorIds.CredentialInvalid, FailureKind.InvalidArgument,
            "Name the namespaces: -Namespace (wildcards allowed), -NamespaceSelector or -AllNamespaces.", target);
}
