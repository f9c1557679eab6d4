using HarborOps.Lab.Harbor;
using Xunit;

namespace HarborOps.Lab.Tests.Judges;

/// <summary>
/// Holds every exchange a Harbor emulator had against Harbor's swagger contract, a batch at a time: tests in one
/// collection run one after another, so each checks the exchanges it caused. A failure the emulator recorded (a request it
/// could not serve as Harbor would) fails the check too.
/// </summary>
public sealed class HarborExchangeAudit(HarborEmulator harbor)
{
    private int _validatedUpTo;
    private int _failuresSeen;

    /// <summary>Every API call since the last check, request and response, against the contract.</summary>
    public void AssertExchangesMatchContract()
    {
        var exchanges = harbor.Exchanges;
        var problems = SwaggerContract.Harbor.ProblemsIn(exchanges, _validatedUpTo);
        _validatedUpTo = exchanges.Count;
        problems.AddRange(harbor.Failures.Skip(_failuresSeen).Select(f => "emulator failure: " + f));
        _failuresSeen = harbor.Failures.Count;
        Assert.True(problems.Count == 0, "Contract violations:\n" + string.Join("\n", problems));
    }

    /// <summary>Marks the exchanges so far as checked (a test that sends deliberately wrong shapes checks them itself).</summary>
    public void SkipExchanges() => _validatedUpTo = harbor.Exchanges.Count;
}
