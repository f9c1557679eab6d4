using System.Collections.Concurrent;
using System.Management.Automation;
using System.Net;
using System.Runtime.ExceptionServices;
using HarborOps.Engine;
using HarborOps.Engine.Errors;

namespace HarborOps.Infrastructure;

/// <summary>
/// Base of every HarborOps cmdlet. <see cref="ProcessRecordAsync"/> runs on the thread pool; everything it
/// writes (objects, errors, verbose, progress, ShouldProcess questions) is queued and executed on the
/// pipeline thread, because PowerShell's Write* methods must never be called from another thread.
/// Ctrl+C cancels <see cref="StopToken"/>, which the engine passes to every HTTP call.
/// </summary>
public abstract class HarborOpsCmdlet : PSCmdlet, IDisposable
{
    /// <summary>How long a cancelled or failed run waits for its engine work to unwind before giving up on it.</summary>
    private static readonly TimeSpan UnwindTimeout = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _stopping = new();
    private volatile BlockingCollection<Action>? _pump;
    private int _pipelineThreadId = -1;
    private ProgressAdapter? _progress;

    /// <summary>Cancelled when the user presses Ctrl+C or a downstream command stops the pipeline.</summary>
    protected CancellationToken StopToken => _stopping.Token;

    /// <summary>The item the current record is about (a reference, a registry): the error target when the engine names none.</summary>
    protected object? CurrentTarget { get; set; }

    /// <summary>The per-record work. Runs off the pipeline thread; use the Write* methods of this class freely.</summary>
    protected abstract Task ProcessRecordAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Runs on the pipeline thread before <see cref="ProcessRecordAsync"/>: the place for anything that needs the
    /// session state (resolving PowerShell paths against the current location), which is not thread-safe.
    /// </summary>
    protected virtual void PrepareRecord()
    {
    }

    /// <summary>
    /// Work after the last pipeline record, for a cmdlet that gathers its input first (Copy-RegistryImage copies
    /// everything piped to it in one run). Runs off the pipeline thread like <see cref="ProcessRecordAsync"/>.
    /// </summary>
    protected virtual Task EndProcessingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected sealed override void ProcessRecord()
    {
        _pipelineThreadId = Environment.CurrentManagedThreadId;
        CurrentTarget = null;
        try
        {
            PrepareRecord();
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            Report(ex);
            return;
        }
        RunOffPipelineThread(ProcessRecordAsync);
    }

    protected sealed override void EndProcessing()
    {
        _pipelineThreadId = Environment.CurrentManagedThreadId;
        CurrentTarget = null;
        RunOffPipelineThread(EndProcessingAsync);
    }

    private void RunOffPipelineThread(Func<CancellationToken, Task> body)
    {
        var pump = new BlockingCollection<Action>(boundedCapacity: 256);
        _pump = pump;

        Task work = Task.Run(async () =>
        {
            try
            {
                await body(StopToken).ConfigureAwait(false);
            }
            finally
            {
                pump.CompleteAdding();
            }
        });

        Exception? engineFailure = null;
        Exception? pipelineFailure = null;
        try
        {
            foreach (Action action in pump.GetConsumingEnumerable(StopToken))
            {
                action();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            pipelineFailure = new PipelineStoppedException();
        }
        catch (Exception ex)
        {
            // Thrown by PowerShell itself on this thread (pipeline stopped downstream, -ErrorAction Stop,
            // "No to All"): it is PowerShell's to handle, as it is.
            pipelineFailure = ex;
        }

        if (pipelineFailure is null)
        {
            try
            {
                work.GetAwaiter().GetResult();
            }
            catch (Exception ex)
            {
                engineFailure = ex;
            }
        }

        _pump = null;
        if (!work.IsCompleted)
        {
            // Stop the engine too and give it a moment to close its connections.
            _stopping.Cancel();
            pump.CompleteAdding();
            try { work.Wait(UnwindTimeout); } catch (AggregateException) { /* the pipeline's failure is the one to report */ }
        }

        CompleteProgress();

        if (pipelineFailure is not null)
        {
            ExceptionDispatchInfo.Capture(pipelineFailure).Throw();
        }

        if (engineFailure is not null)
        {
            Report(engineFailure);
        }
    }

    protected override void StopProcessing() => _stopping.Cancel();

    public void Dispose()
    {
        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Creates the progress sink for this record's engine call and shows the first status at once.</summary>
    protected IProgress<OperationProgress> StartProgress(string activity, string status)
    {
        CompleteProgress();
        var adapter = new ProgressAdapter(this, activity);
        _progress = adapter;
        adapter.Start(status);
        return adapter;
    }

    protected new void WriteObject(object? sendToPipeline) => OnPipelineThread(() => base.WriteObject(sendToPipeline));

    protected new void WriteVerbose(string text) => OnPipelineThread(() => base.WriteVerbose(text));

    /// <summary>
    /// Verbose text the worker waits for: done once the pipeline thread has written it (and whatever consumes the
    /// merged stream has taken it), so the next step starts only after its predecessor is on record.
    /// </summary>
    protected Task WriteVerboseAsync(string text)
    {
        if (Environment.CurrentManagedThreadId == _pipelineThreadId || _pump is null)
        {
            base.WriteVerbose(text);
            return Task.CompletedTask;
        }

        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        OnPipelineThread(() =>
        {
            try
            {
                base.WriteVerbose(text);
                written.TrySetResult();
            }
            catch (Exception ex)
            {
                written.TrySetException(ex);
                throw;
            }
        });
        return written.Task.WaitAsync(StopToken);
    }

    protected new void WriteWarning(string text) => OnPipelineThread(() => base.WriteWarning(text));

    protected new void WriteDebug(string text) => OnPipelineThread(() => base.WriteDebug(text));

    internal new void WriteProgress(ProgressRecord record) => OnPipelineThread(() => base.WriteProgress(record));

    /// <summary>Text for the person at the console, as Write-Host shows it (information stream, tag PSHOST): a -WhatIf diff.</summary>
    protected void WriteHostText(string text) =>
        OnPipelineThread(() => base.WriteInformation(new HostInformationMessage { Message = text, NoNewLine = false }, ["PSHOST"]));

    /// <summary>
    /// One item of a record that holds several (namespaces, projects, references): a non-terminating engine failure
    /// becomes that item's error record and the caller goes on with the next item; a terminating one still ends the
    /// command. A record's work that is one item needs none of this: the base reports its failure the same way. Returns
    /// the failure (null when the item succeeded) for cmdlets that also emit a result row for a failed item.
    /// </summary>
    /// <param name="target">The item, for the error record when the engine names none.</param>
    /// <param name="work">The item's work.</param>
    /// <param name="isItemFailure">Also treat these terminating failures as the item's own (a piped reference that does not parse).</param>
    /// <remarks>The signature names no engine type, so PowerShell's reflection over cmdlet classes at import loads no engine.</remarks>
    protected async Task<Exception?> RunItemAsync(object? target, Func<Task> work, Func<string, bool>? isItemFailure = null)
    {
        CurrentTarget = target;
        try
        {
            await work().ConfigureAwait(false);
            return null;
        }
        catch (HarborOpsException failure) when (!failure.IsTerminating || isItemFailure?.Invoke(failure.ErrorId) == true)
        {
            WriteFailure(failure, target);
            return failure;
        }
    }

    /// <summary>Reports a per-item failure and lets the run go on; terminating failures should be thrown instead.</summary>
    protected void WriteFailure(Exception exception, object? target)
    {
        ErrorRecord record = ErrorRecordFactory.Create(exception, target, out _);
        OnPipelineThread(() => base.WriteError(record));
    }

    /// <summary>ShouldProcess asked on the pipeline thread (where -Confirm can prompt), awaited by the worker.</summary>
    protected Task<bool> ShouldProcessAsync(string target, string action)
    {
        if (Environment.CurrentManagedThreadId == _pipelineThreadId)
        {
            return Task.FromResult(ShouldProcess(target, action));
        }

        var answer = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        OnPipelineThread(() =>
        {
            try
            {
                answer.TrySetResult(ShouldProcess(target, action));
            }
            catch (Exception ex)
            {
                answer.TrySetException(ex);
                throw;
            }
        });
        return answer.Task.WaitAsync(StopToken);
    }

    /// <summary>ShouldContinue asked on the pipeline thread, awaited by the worker: for a question that must be asked even
    /// when $ConfirmPreference would not ask (a change with consequences the caller should see), skipped with -Force.</summary>
    protected Task<bool> ShouldContinueAsync(string query, string caption)
    {
        if (Environment.CurrentManagedThreadId == _pipelineThreadId)
        {
            return Task.FromResult(ShouldContinue(query, caption));
        }

        var answer = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        OnPipelineThread(() =>
        {
            try
            {
                answer.TrySetResult(ShouldContinue(query, caption));
            }
            catch (Exception ex)
            {
                answer.TrySetException(ex);
                throw;
            }
        });
        return answer.Task.WaitAsync(StopToken);
    }

    /// <summary>A PSCredential as the engine wants it; the password stays a SecureString inside NetworkCredential.</summary>
    protected static NetworkCredential? ToNetworkCredential(PSCredential? credential)
        => credential is null || ReferenceEquals(credential, PSCredential.Empty) ? null : new NetworkCredential(credential.UserName, credential.Password);

    /// <summary>A -Rename hashtable (@{ 'old-team' = 'new-team' }) as the engine's repository renames; none when null.</summary>
    protected static IReadOnlyDictionary<string, string> ToRepositoryRenames(System.Collections.Hashtable? rename) =>
        rename?.Cast<System.Collections.DictionaryEntry>().ToDictionary(e => e.Key.ToString() ?? "", e => e.Value?.ToString() ?? "") ?? new Dictionary<string, string>();

    /// <summary>
    /// An image reference whose "oci:" layout directory is made absolute against the PowerShell location, which is not
    /// the process directory; the engine's grammar (<see cref="Engine.References.OciLayoutReference"/>) says where the
    /// directory ends. Other references come back as they are. Pipeline thread only.
    /// </summary>
    protected string ResolveLayoutImage(string reference) =>
        Engine.References.OciLayoutReference.ResolveImage(reference, GetUnresolvedProviderPathFromPSPath);

    /// <summary>A registry or destination that is an "oci:" layout as a whole, its directory made absolute like <see cref="ResolveLayoutImage"/>'s.</summary>
    protected string ResolveLayoutDirectory(string registry) =>
        Engine.References.OciLayoutReference.ResolveDirectory(registry, GetUnresolvedProviderPathFromPSPath);

    private void OnPipelineThread(Action action)
    {
        BlockingCollection<Action>? pump = _pump;
        if (pump is null || Environment.CurrentManagedThreadId == _pipelineThreadId)
        {
            action();
            return;
        }

        try
        {
            pump.Add(action, StopToken);
        }
        catch (InvalidOperationException)
        {
            // The pump has closed: the pipeline stopped or failed, and this worker must unwind.
            throw new OperationCanceledException("The pipeline has stopped.", StopToken);
        }
    }

    private void CompleteProgress()
    {
        ProgressAdapter? progress = _progress;
        _progress = null;
        try
        {
            progress?.Complete();
        }
        catch (PipelineStoppedException)
        {
            // A stopped pipeline takes its progress display down with it.
        }
    }

    private void Report(Exception failure)
    {
        if (failure is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            failure = aggregate.InnerExceptions[0];
        }

        if (failure is PipelineStoppedException or ActionPreferenceStopException)
        {
            ExceptionDispatchInfo.Capture(failure).Throw();
        }

        if (failure is OperationCanceledException && _stopping.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }

        ErrorRecord record = ErrorRecordFactory.Create(failure, CurrentTarget, out bool isTerminating);
        if (isTerminating)
        {
            ThrowTerminatingError(record);
        }

        base.WriteError(record);
    }
}
