using HarborOps.Lab.Graph;

namespace HarborOps.Lab.Tests.Judges;

/// <summary>
/// Holds every response a Graph emulator sent against Graph's published OpenAPI (<see cref="SwaggerContract.Graph"/>), a
/// batch at a time, as <see cref="HarborExchangeAudit"/> does for Harbor: a test class calls it when each test ends.
/// </summary>
public sealed class GraphExchangeAudit(GraphEmulator graph) : ExchangeAudit<GraphExchange>("Graph", () => graph.Exchanges, () => graph.Failures)
{
    /// <summary>What in the exchanges from index <paramref name="from"/> on breaks the contract.</summary>
    public static List<string> ProblemsIn(IReadOnlyList<GraphExchange> exchanges, int from) =>
        ResponseProblems(SwaggerContract.Graph, exchanges.Skip(from).Select(x => new SentResponse(x.Method, x.Path, x.Query, x.Status, x.ResponseContentType, x.ResponseBody)));

    protected override List<string> Problems(IReadOnlyList<GraphExchange> recorded, int from) => ProblemsIn(recorded, from);
}
