using System.Net;
using System.Text;
using HarborOps.Engine.Harbor;
using HarborOps.Lab;
using HarborOps.Lab.Harbor;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>One Harbor emulator (and its real Distribution registry) for every Harbor test class in the collection.
/// Tests in a collection run one after another, so each can check the exchanges it caused against the contract.</summary>
public sealed class HarborLabFixture : IAsyncLifetime
{
    private int _validatedUpTo;
    private int _names;
    private int _failuresSeen;

    public HarborEmulator Harbor { get; private set; } = null!;
    public HarborClientOptions FastOptions { get; } = new()
    {
        MaxRetries = 1, RetryBaseDelay = TimeSpan.FromMilliseconds(20), RetryMaxDelay = TimeSpan.FromMilliseconds(100),
        RequestTimeout = TimeSpan.FromSeconds(20), ScanPollInterval = TimeSpan.FromMilliseconds(100),
    };

    public async Task InitializeAsync() =>
        Harbor = await HarborEmulator.StartAsync(new HarborEmulatorOptions { ScanDuration = TimeSpan.FromMilliseconds(250) });

    public async Task DisposeAsync()
    {
        if (Harbor is not null) await Harbor.DisposeAsync();
    }

    public HarborConnection AdminConnection => new(Harbor.BaseUri, new NetworkCredential(Harbor.AdminUser, Harbor.AdminPassword));

    public HarborClient Admin(List<string>? log = null) => new(AdminConnection, log is null ? null : log.Add, FastOptions);

    public HarborClient As(string user, string secret, List<string>? log = null) =>
        new(new HarborConnection(Harbor.BaseUri, new NetworkCredential(user, secret)), log is null ? null : log.Add, FastOptions);

    /// <summary>A name no other test uses (lower case, Harbor's name rules).</summary>
    public string Unique(string prefix) => $"{prefix}-{Interlocked.Increment(ref _names)}";

    public LabEndpoint Endpoint(string user, string secret) => new(Harbor.BaseUri, user, secret);

    /// <summary>Every API call since the last check, request and response, against the swagger contract.</summary>
    public void AssertExchangesMatchContract()
    {
        var exchanges = Harbor.Exchanges;
        var problems = ContractProblems(exchanges, _validatedUpTo);
        _validatedUpTo = exchanges.Count;
        problems.AddRange(Harbor.Failures.Skip(_failuresSeen).Select(f => "emulator failure: " + f));
        _failuresSeen = Harbor.Failures.Count;
        Assert.True(problems.Count == 0, "Contract violations:\n" + string.Join("\n", problems));
    }

    /// <summary>What in the exchanges from index <paramref name="from"/> on breaks the swagger contract (requests, responses, X-Request-Id).</summary>
    internal static List<string> ContractProblems(IReadOnlyList<HarborExchange> exchanges, int from)
    {
        var problems = new List<string>();
        for (var i = from; i < exchanges.Count; i++)
        {
            var x = exchanges[i];
            var sid = x.RequestHeaders.TryGetValue("Cookie", out var cookie) && cookie.Contains("sid=", StringComparison.Ordinal);
            foreach (var problem in SwaggerContract.Harbor.ValidateRequest(x.Method, x.Path, x.Query, Encoding.UTF8.GetString(x.RequestBody), x.RequestHeaders))
                problems.Add($"request {x.Method} {x.Path}{x.Query}: {problem}");
            foreach (var problem in SwaggerContract.Harbor.ValidateResponse(x.Method, x.Path, x.Status, x.ContentType, Encoding.UTF8.GetString(x.ResponseBody), sid))
                problems.Add($"response {x.Status} to {x.Method} {x.Path}: {problem}");
            if (!x.RequestHeaders.ContainsKey("X-Request-Id") && !x.RequestHeaders.ContainsKey("X-Harbor-Lab-Raw"))
                problems.Add($"request {x.Method} {x.Path}: no X-Request-Id");
        }
        return problems;
    }

    /// <summary>Marks the exchanges so far as checked (a test that sends deliberately wrong shapes checks them itself).</summary>
    public void SkipExchanges() => _validatedUpTo = Harbor.Exchanges.Count;
}

[CollectionDefinition(Name)]
public sealed class HarborLabCollection : ICollectionFixture<HarborLabFixture>
{
    public const string Name = "harbor lab";
}
