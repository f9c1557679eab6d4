using System.Management.Automation;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Lets a parameter that names a registry endpoint take the endpoint object Get- or New-HarborRegistryEndpoint wrote (as its id).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RegistryEndpointArgumentAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData) =>
        (inputData is PSObject wrapped ? wrapped.BaseObject : inputData) is HarborRegistryEndpointInfo endpoint
            ? endpoint.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : inputData;
}
