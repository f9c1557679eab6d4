using System.Text.Json.Nodes;
using HarborOps.Lab.Contracts;

namespace HarborOps.Lab.Tests.Judges;

public sealed partial class SwaggerContract
{
    private static readonly Lazy<SwaggerContract> SharedAcr = new(() =>
        new SwaggerContract(WithAcrDeviations(ReadJson(ContractPath("acr", "containerregistry-2021-07-01.json"))), JsonSchemaDialect.Swagger2 with { CheckRequired = true }));

    /// <summary>
    /// ACR's data-plane swagger (2021-07-01), trimmed to /acr/v1 and /oauth2 (tests/contracts/acr/README.md), with the
    /// places where real ACR answers outside it (<see cref="AcrKnownDeviations"/>) written into the loaded copy. Required
    /// properties are checked: the SDK's models need them.
    /// </summary>
    public static SwaggerContract Acr => SharedAcr.Value;

    /// <summary>Where a real ACR answers outside its swagger, each shown by a recorded session (tests/contracts/acr/recordings).</summary>
    public static IReadOnlyList<string> AcrKnownDeviations =>
    [
        "ManifestAttributesBase: every manifest carries mediaType, which the swagger leaves out (CanGetManifestsWithCustomPageSize(False))",
        "Tag and manifest changeableAttributes carry quarantineState and quarantineDetails (strings) when a scanner has quarantined them (same recording)",
        "AcrErrorInfo.detail is an array of {Type, Name, Action} in a 401, where the swagger says object (every recorded 401)",
        "ArtifactArchitecture: the swagger's enum spells ppc64le as 'ppc641e' (its x-ms-enum values say ppc64le); ppc64le is accepted",
    ];

    private static JsonObject WithAcrDeviations(JsonObject root)
    {
        var definitions = root["definitions"]!;
        definitions["ManifestAttributesBase"]!["properties"]!["mediaType"] = new JsonObject { ["type"] = "string" };
        foreach (var attributes in new[] { "TagChangeableAttributes", "ManifestChangeableAttributes" })
        {
            definitions[attributes]!["properties"]!["quarantineState"] = new JsonObject { ["type"] = "string" };
            definitions[attributes]!["properties"]!["quarantineDetails"] = new JsonObject { ["type"] = "string" };
        }
        // Any JSON value but null: an object (404s name the repository) or the 401's array of required accesses.
        definitions["AcrErrorInfo"]!["properties"]!["detail"] = new JsonObject();
        definitions["ArtifactArchitecture"]!["enum"]!.AsArray().Add("ppc64le");
        return root;
    }
}
