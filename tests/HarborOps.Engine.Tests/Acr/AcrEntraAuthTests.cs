using HarborOps.Engine.Registry;
using HarborOps.Lab;
using Xunit;

namespace HarborOps.Engine.Tests.Acr;

/// <summary>Entra ID through Azure.Identity for real (MSAL against the lab's https Entra endpoint), then ACR's exchange.</summary>
[Collection(AcrLabCollection.Name)]
public sealed class AcrEntraAuthTests(AcrLabFixture lab)
{
    [Fact]
    public async Task Client_secret_credential_lists_tags_through_the_exchange()
    {
        await lab.ResetAsync();
        var repository = lab.Unique("entra/list");
        await LabContent.PushImageAsync(lab.Acr.AdminEndpoint, repository, "1.0");
        await LabContent.PushImageAsync(lab.Acr.AdminEndpoint, repository, "2.0");
        using var engine = lab.NewEngine();
        engine.Credentials.SetAzureIdentity(lab.AcrHost, lab.ReaderCredential());

        var tags = new List<string>();
        await foreach (var tag in engine.GetTagsAsync(new GetTagsRequest($"{lab.AcrHost}/{repository}"), null, default)) tags.Add(tag.Tag);

        Assert.Equal(["1.0", "2.0"], tags);
        Assert.Equal(1, lab.Acr.Entra.TokenRequestCount);
        Assert.Equal(1, lab.Acr.ExchangeCount);
    }
}

