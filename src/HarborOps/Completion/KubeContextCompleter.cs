using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using HarborOps.Engine.Kube;

namespace HarborOps.Completion;

/// <summary>Completes -Context with the contexts of the kubeconfig the cmdlet would read (-Kubeconfig, KUBECONFIG, ~/.kube/config).</summary>
public sealed class KubeContextCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        CompletionList.Matching(CompletionList.Await(KubeCompletion.ContextNamesAsync(CompletionList.BoundPath(fakeBoundParameters, "Kubeconfig"))), wordToComplete);
}
