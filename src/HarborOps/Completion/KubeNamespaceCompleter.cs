using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using HarborOps.Engine.Kube;

namespace HarborOps.Completion;

/// <summary>
/// Completes -Namespace with the namespaces of the cluster the line's -Kubeconfig and -Context point at; the listing
/// has a short deadline and any failure completes nothing (<see cref="KubeCompletion.NamespaceNamesAsync"/>).
/// </summary>
public sealed class KubeNamespaceCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        if (CompletionList.IsInCluster(fakeBoundParameters)) return [];
        var names = CompletionList.Await(KubeCompletion.NamespaceNamesAsync(CompletionList.BoundPath(fakeBoundParameters, "Kubeconfig"), CompletionList.Bound(fakeBoundParameters, "Context")));
        return CompletionList.Matching(names, wordToComplete);
    }
}
