using HarborOps.Lab.Graph;
using Xunit;

namespace HarborOps.Lab.Tests.Judges;

/// <summary>
/// Holds every response a Graph emulator sent against Graph's published OpenAPI (<see cref="SwaggerContract.Graph"/>), a
/// batch at a time, as <see cref="HarborExchangeAudit"/> does for Harbor: a test class calls it when each test ends, so a
/// response that breaks the contract fails the test that caused it. A failure the emulator recorded fails the check too.
/// </summary>
public sealed class GraphExchangeAudit(GraphEmulator graph)
{
    private int _validatedUpTo;
    private int _failuresSeen;

    /// <summary>What in the exchanges from index <paramref name="from"/> on breaks the contract.</summary>
    public static List<string> ProblemsIn(IReadOnlyList<GraphExchange> exchanges, int from)
    {
        var problems = new List<string>();
        for (var i = from; i < exchanges.Count; i++)
        {
            var x = exchanges[i];
            foreach (var problem in SwaggerContract.Graph.ValidateResponse(x.Method, x.Path, x.Status, x.ResponseContentType, x.ResponseBody))
                problems.Add($"response {x.Status} to {x.Method} {x.Path}{x.Query}: {problem}");
        }
        return problems;
    }

    /// <summary>Every Graph response since the last check, against the contract.</summary>
    public void AssertExchangesMatchContract()
    {
        lock (this)
        {
            var exchanges = graph.Exchanges;
            var problems = ProblemsIn(exchanges, _validatedUpTo);
            _validatedUpTo = exchanges.Count;
            problems.AddRange(graph.Failures.Skip(_failuresSeen).Select(f => "emulator failure: " + f));
            _failuresSeen = graph.Failures.Count;
            Assert.True(problems.Count == 0, "Graph contract violations:\n" + string.Join("\n", problems));
        }
    }
}
