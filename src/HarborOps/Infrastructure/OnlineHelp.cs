namespace HarborOps.Infrastructure;

/// <summary>
/// Where <c>Get-Help &lt;cmdlet&gt; -Online</c> goes: each cmdlet's page under docs/cmdlets in the project's repository,
/// generated from the same doc comments as the MAML help (tools/New-HarborOpsHelp.ps1), so the page and
/// <c>Get-Help</c> say the same thing. Each cmdlet's <c>HelpUri</c> is this prefix and its own name; the help generator
/// and the Hygiene tests refuse a cmdlet whose HelpUri is missing or names another page.
/// </summary>
internal static class OnlineHelp
{
    internal const string CmdletPages = "https://github.com/harborops/HarborOps/blob/main/docs/cmdlets/";
}
