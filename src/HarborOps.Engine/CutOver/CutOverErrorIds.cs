namespace HarborOps.Engine.CutOver;

/// <summary>Stable error ids of Get-ImageReference and Update-ImageReference. Documented in about_HarborOps_Errors; never renamed.</summary>
public static class CutOverErrorIds
{
    /// <summary>A -Path names nothing that exists.</summary>
    public const string PathNotFound = "ImageReferencePathNotFound";
    /// <summary>A file cannot be read (permissions, locked, vanished).</summary>
    public const string FileUnreadable = "ImageReferenceFileUnreadable";
    /// <summary>A file is binary or not UTF-8 text.</summary>
    public const string FileBinary = "ImageReferenceFileBinary";
    /// <summary>A YAML file does not parse.</summary>
    public const string FileMalformed = "ImageReferenceFileMalformed";
    /// <summary>The rewritten file could not be written, or changed on disk while it was being rewritten.</summary>
    public const string WriteFailed = "ImageReferenceWriteFailed";
    /// <summary>A file or folder link leads out of the folder given (or a named file's folder), and -FollowSymlink was not given.</summary>
    public const string LinkOutsideFolder = "ImageReferenceLinkOutsideFolder";
    /// <summary>A file's mode lets nobody of us write it (read-only), so it is not replaced.</summary>
    public const string FileReadOnly = "ImageReferenceFileReadOnly";
    /// <summary>-PinDigest found no manifest at the destination for a rewritten reference.</summary>
    public const string PinTargetMissing = "ImageReferencePinTargetMissing";
    /// <summary>-From, -To or the globs are invalid.</summary>
    public const string RequestInvalid = "ImageReferenceRequestInvalid";
}
