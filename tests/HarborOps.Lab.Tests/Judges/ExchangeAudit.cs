using Xunit;

namespace HarborOps.Lab.Tests.Judges;

/// <summary>One response as an emulator sent it, in the terms a contract judges it by.</summary>
public readonly record struct SentResponse(string Method, string Path, string Query, int Status, string? ContentType, string Body);

/// <summary>
/// Holds an emulator's exchanges against its service's published contract, a batch at a time: tests in one collection run
/// one after another, so each test checks the exchanges it caused when it ends, and a breach fails the test that caused it.
/// A failure the emulator recorded (a request it could not serve as the service would) fails the check too.
/// </summary>
public abstract class ExchangeAudit<TExchange>(string service, Func<IReadOnlyList<TExchange>> exchanges, Func<IReadOnlyList<string>> failures)
{
    private readonly object _gate = new();
    private int _validatedUpTo;
    private int _failuresSeen;

    /// <summary>What in the exchanges from index <paramref name="from"/> on breaks the contract.</summary>
    protected abstract List<string> Problems(IReadOnlyList<TExchange> recorded, int from);

    /// <summary>Every exchange since the last check, against the contract.</summary>
    public void AssertExchangesMatchContract()
    {
        lock (_gate)
        {
            var recorded = exchanges();
            var problems = Problems(recorded, _validatedUpTo);
            _validatedUpTo = recorded.Count;
            var seen = failures();
            problems.AddRange(seen.Skip(_failuresSeen).Select(f => "emulator failure: " + f));
            _failuresSeen = seen.Count;
            Assert.True(problems.Count == 0, $"{service} contract violations:\n" + string.Join("\n", problems));
        }
    }

    /// <summary>Marks the exchanges so far as checked (a test that sends deliberately wrong shapes checks them itself).</summary>
    public void SkipExchanges()
    {
        lock (_gate) _validatedUpTo = exchanges().Count;
    }

    /// <summary>Each response against the operation the contract names for its method and path.</summary>
    protected static List<string> ResponseProblems(SwaggerContract contract, IEnumerable<SentResponse> responses)
    {
        var problems = new List<string>();
        foreach (var x in responses)
            foreach (var problem in contract.ValidateResponse(x.Method, x.Path, x.Status, x.ContentType, x.Body))
                problems.Add($"response {x.Status} to {x.Method} {x.Path}{x.Query}: {problem}");
        return problems;
    }
}
