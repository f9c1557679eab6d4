using System.Text.Json.Nodes;

namespace HarborOps.Lab.Harbor;

/// <summary>The lab's own control API (/_lab/), for tests in other processes such as Pester: seed scans, add users and groups.</summary>
public sealed partial class HarborEmulator
{
    // ---------------------------------------------------------------- /_lab/ control API (for other processes, like Pester)

    private async Task ControlAsync(HttpContext context, string path)
    {
        if (context.Request.Method != "POST") { context.Response.StatusCode = 405; return; }
        var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        switch (path)
        {
            case "scan-reports":
                var digest = Str(body, "digest") ?? "";
                var vulnerabilities = body?["vulnerabilities"] is JsonArray list
                    ? list.Select(v => new LabVulnerability(Str(v, "id") ?? "", Str(v, "severity") ?? "Unknown", Str(v, "package") ?? "libexample",
                        Str(v, "version") ?? "1.0.0", Str(v, "fix_version"), Str(v, "description") ?? "")).ToList()
                    : [];
                if (!digest.StartsWith("sha256:", StringComparison.Ordinal) || vulnerabilities.Any(v => !ReportSeverities.Contains(v.Severity)))
                {
                    await WriteErrorAsync(context, 400, "BAD_REQUEST", $"need a sha256 digest and severities among {string.Join(", ", ReportSeverities)}");
                    return;
                }
                SeedScanReport(digest, vulnerabilities, body?["fails"] is JsonValue f && f.GetValue<bool>());
                break;
            case "scans/complete":
                CompleteScan(Str(body, "digest") ?? "");
                break;
            case "users":
                AddUser(Str(body, "username") ?? "", Str(body, "password") ?? "", body?["sysadmin"] is JsonValue a && a.GetValue<bool>(), Str(body, "cli_secret"));
                break;
            default:
                try
                {
                    if (TryControlMembers(path, body)) break;
                    if (TryControlSystem(path, body)) break;
                }
                catch (ArgumentException ex)
                {
                    await WriteErrorAsync(context, 400, "BAD_REQUEST", ex.Message);
                    return;
                }
                context.Response.StatusCode = 404;
                return;
        }
        context.Response.StatusCode = 204;
    }
}
