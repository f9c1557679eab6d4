using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using HarborOps.Engine.Harbor;

namespace HarborOps.Completion;

/// <summary>Completes a robot's -Name from the Connect-Harbor session: the robots of the line's -Project, else the system robots. Names only, never secrets.</summary>
public sealed class HarborRobotCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        CompletionList.Matching(CompletionList.Await(HarborCompletion.RobotNamesAsync(CompletionList.Bound(fakeBoundParameters, "Project"))), wordToComplete);
}
