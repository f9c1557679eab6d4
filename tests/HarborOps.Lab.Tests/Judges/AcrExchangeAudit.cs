using System.Text.RegularExpressions;
using HarborOps.Lab.Acr;

namespace HarborOps.Lab.Tests.Judges;

/// <summary>
/// Holds every answer of the ACR emulator's own API (/oauth2/*, /acr/v1/*) against ACR's data-plane swagger
/// (<see cref="SwaggerContract.Acr"/>), a batch at a time, as <see cref="GraphExchangeAudit"/> does for Graph: a test class
/// calls it when each test ends. The referrers API, which the emulator answers itself, is held to the OCI specs
/// (<see cref="OciReferrersContract"/>); the other /v2/ answers come from the real Distribution registry behind the emulator.
/// </summary>
public sealed partial class AcrExchangeAudit(AcrEmulator acr) : ExchangeAudit<AcrExchange>("ACR", () => acr.Exchanges, () => acr.Failures)
{
    /// <summary>What in the exchanges from index <paramref name="from"/> on breaks the contract.</summary>
    public static List<string> ProblemsIn(IReadOnlyList<AcrExchange> exchanges, int from)
    {
        var batch = exchanges.Skip(from).ToList();
        var problems = ResponseProblems(SwaggerContract.Acr, batch.Where(x => !IsReferrers(x))
            .Select(x => new SentResponse(x.Method, ContractPath(x.Path), x.Query, x.Status, x.ResponseContentType, x.ResponseBody)));
        // The swagger has no referrers operation (its /v2/ routes are the OCI distribution spec's): the OCI specs judge them.
        foreach (var x in batch.Where(IsReferrers))
            problems.AddRange(OciReferrersContract.Problems(x.Status, x.ResponseContentType, x.ResponseBody, x.Query, x.FiltersApplied)
                .Select(p => $"response {x.Status} to {x.Method} {x.Path}{x.Query}: {p}"));
        return problems;
    }

    private static bool IsReferrers(AcrExchange exchange) => ReferrersPath().IsMatch(exchange.Path);

    [GeneratedRegex("^/v2/.+/referrers/[^/]+$")]
    private static partial Regex ReferrersPath();

    protected override List<string> Problems(IReadOnlyList<AcrExchange> recorded, int from) => ProblemsIn(recorded, from);

    [GeneratedRegex("^/acr/v1/(?<name>.+?)(?<item>/_(tags|manifests)(/[^/]+)?)?$")]
    private static partial Regex AcrV1Path();

    /// <summary>
    /// The path as the swagger's templates read it: {name} is the repository with its namespace, one segment whatever '/'
    /// it holds, so the repository is encoded as the SDK sends it (library%2Fhello-world) whether the client encoded it or not.
    /// </summary>
    public static string ContractPath(string path)
    {
        if (path == "/acr/v1/_catalog" || AcrV1Path().Match(path) is not { Success: true } match) return path;
        return "/acr/v1/" + Uri.EscapeDataString(Uri.UnescapeDataString(match.Groups["name"].Value)) + match.Groups["item"].Value;
    }
}
