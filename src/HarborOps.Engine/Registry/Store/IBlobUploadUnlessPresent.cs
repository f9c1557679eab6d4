namespace HarborOps.Engine.Registry.Store;

/// <summary>
/// A store that can fold "is the blob already there?" into the start of its upload, so that a writer needs no HEAD
/// before an upload and never moves a blob the repository already holds (a registry: a mount request naming the
/// repository itself, answered 201 when the blob is there and with an upload session when it is not).
/// </summary>
internal interface IBlobUploadUnlessPresent
{
    /// <summary>
    /// Uploads the blob unless <paramref name="repository"/> already has it; false when it had it. The content is opened
    /// only when it is needed (the caller may have started opening it already, to overlap the two round trips).
    /// </summary>
    Task<bool> PutBlobUnlessPresentAsync(string repository, string digest, long size, Func<Task<Stream>> openContent, CancellationToken cancellationToken);
}
