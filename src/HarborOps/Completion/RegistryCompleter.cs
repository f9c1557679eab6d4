using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using HarborOps.Engine.Registry;

namespace HarborOps.Completion;

/// <summary>Completes -Registry with the registries Set-RegistryCredential stored in this session: their names only, never what the credential holds.</summary>
public sealed class RegistryCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            return CompletionList.Matching(RegistryEngine.Shared.SessionCredentials.List().Select(c => c.Registry), wordToComplete);
        }
        catch (Exception)
        {
            return []; // failure-silent, as every completer
        }
    }
}
