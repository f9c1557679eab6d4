using HarborOps.Lab.Harbor;

namespace HarborOps.Lab.Tests.Judges;

/// <summary>
/// Holds every exchange a Harbor emulator had against Harbor's swagger contract, requests and responses, a batch at a time
/// (<see cref="SwaggerContract.ProblemsIn"/>).
/// </summary>
public sealed class HarborExchangeAudit(HarborEmulator harbor) : ExchangeAudit<HarborExchange>("Harbor", () => harbor.Exchanges, () => harbor.Failures)
{
    protected override List<string> Problems(IReadOnlyList<HarborExchange> recorded, int from) => SwaggerContract.Harbor.ProblemsIn(recorded, from);
}
