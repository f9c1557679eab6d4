using System.Runtime.CompilerServices;
using HarborOps.Engine.Errors;
using HarborOps.Models;

namespace HarborOps.Engine.Rotation;

/// <summary>A failure of one namespace's rotation (or of one of its workloads) and the item it is about.</summary>
public sealed record RotationFailure(HarborOpsException Failure, object Target);

/// <summary>What the rotation did in one namespace: its result row, and the failures to report for it.</summary>
public sealed record NamespaceRotationOutcome(PullSecretRotationResult Result, IReadOnlyList<RotationFailure> Failures);

public sealed partial class PullSecretRotator
{
    /// <summary>
    /// Rotates each namespace in turn: plan, ask <paramref name="confirm"/> (namespace, the plan's steps; a "no" yields
    /// the plan as a WhatIf row), execute. A namespace that cannot be planned or executed fails alone and the next one
    /// runs; only a terminating failure ends the run.
    /// </summary>
    public async IAsyncEnumerable<NamespaceRotationOutcome> RotateAsync(IReadOnlyList<string> namespaces, PullSecretRotationRequest request,
        Func<string, string, Task<bool>> confirm, IProgress<OperationProgress>? progress, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        const string Activity = "Invoke-PullSecretRotation";
        for (var done = 0; done < namespaces.Count; done++)
        {
            var name = namespaces[done];
            progress?.Report(new OperationProgress(Activity, $"{done} of {namespaces.Count} namespaces", name, done, namespaces.Count));
            NamespaceRotationPlan plan;
            HarborOpsException? planFailure = null;
            try
            {
                plan = await PlanAsync(name, request, cancellationToken).ConfigureAwait(false);
            }
            catch (HarborOpsException failure) when (!failure.IsTerminating)
            {
                plan = null!;
                planFailure = failure;
            }
            if (planFailure is not null)
            {
                yield return new NamespaceRotationOutcome(new PullSecretRotationResult { Namespace = name, SecretName = request.SecretName, Error = planFailure.Message },
                    [new RotationFailure(planFailure, name)]);
                continue;
            }
            if (plan.Problem is null && !await confirm(name, string.Join("; ", plan.Steps)).ConfigureAwait(false))
            {
                yield return new NamespaceRotationOutcome(new PullSecretRotationResult
                {
                    Namespace = name, SecretName = request.SecretName, Robot = plan.State.Robot, PreviousRobot = plan.State.Robot, Changes = [.. plan.Steps], WhatIf = true,
                }, []);
                continue;
            }
            var (result, problem, workloads) = await ExecuteAsync(plan, request, cancellationToken).ConfigureAwait(false);
            var failures = new List<RotationFailure>();
            foreach (var (restart, failure) in workloads)
                if (failure is not null) failures.Add(new RotationFailure(failure, $"{restart.Kind} {restart.Namespace}/{restart.Name}"));
            if (problem is not null) failures.Add(new RotationFailure(problem, name));
            yield return new NamespaceRotationOutcome(result, failures);
        }
        progress?.Report(new OperationProgress(Activity, $"{namespaces.Count} of {namespaces.Count} namespaces", null, namespaces.Count, namespaces.Count));
    }
}
