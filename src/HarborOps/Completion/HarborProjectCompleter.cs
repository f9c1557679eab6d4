using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using HarborOps.Engine.Harbor;

namespace HarborOps.Completion;

/// <summary>Completes a Harbor project name (-Project, and -Name of the project cmdlets) from the Connect-Harbor session.</summary>
public sealed class HarborProjectCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        CompletionList.Matching(CompletionList.Await(HarborCompletion.ProjectNamesAsync()), wordToComplete);
}
