using System.Text;
using HarborOps.Engine.Errors;

namespace HarborOps.Engine.CutOver;

/// <summary>
/// A text file as read from disk: its UTF-8 text without the BOM, whether it had one, and where each line starts. A
/// rewrite splices the text and writes it back with the same BOM, so every byte outside the changed spans stays.
/// </summary>
internal sealed class TextFile
{
    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    // Git's heuristic: a NUL in the first 8000 bytes means binary.
    private const int BinaryProbeLength = 8000;

    private readonly int[] _lineStarts;

    private TextFile(string path, string text, bool hasBom, long length, DateTime lastWriteUtc)
    {
        Path = path;
        Text = text;
        HasBom = hasBom;
        Length = length;
        LastWriteUtc = lastWriteUtc;
        var starts = new List<int> { 0 };
        for (var i = 0; i < text.Length; i++)
            if (text[i] == '\n') starts.Add(i + 1);
        _lineStarts = starts.ToArray();
    }

    public string Path { get; }
    public string Text { get; }
    public bool HasBom { get; }
    /// <summary>Size and time seen at read, so a rewrite refuses to replace a file someone changed meanwhile.</summary>
    public long Length { get; }
    public DateTime LastWriteUtc { get; }

    public static async Task<TextFile> ReadAsync(string path, CancellationToken cancellationToken)
    {
        byte[] bytes;
        FileInfo info;
        try
        {
            info = new FileInfo(path);
            // A link's own size and time say nothing of the file written through it.
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target) info = target;
            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new HarborOpsException(CutOverErrorIds.FileUnreadable, FailureKind.PermissionDenied,
                $"'{path}' cannot be read ({ex.Message}); it was skipped. Check its permissions, or leave it out with -Exclude.", path, ex);
        }
        var hasBom = bytes.AsSpan().StartsWith(Utf8Bom);
        var body = hasBom ? bytes.AsMemory(Utf8Bom.Length) : bytes.AsMemory();
        if (body.Span[..Math.Min(body.Length, BinaryProbeLength)].Contains((byte)0))
            throw NotText(path, "it contains NUL bytes (a binary file)");
        string text;
        try
        {
            text = StrictUtf8.GetString(body.Span);
        }
        catch (DecoderFallbackException)
        {
            throw NotText(path, "it is not valid UTF-8 text");
        }
        return new TextFile(path, text, hasBom, bytes.LongLength, info.LastWriteTimeUtc);
    }

    /// <summary>A file built from text in memory (tests and inner documents); never written.</summary>
    public static TextFile FromText(string path, string text) => new(path, text, false, -1, default);

    public int LineCount => _lineStarts.Length;

    public int LineStart(int zeroBasedLine) => _lineStarts[zeroBasedLine];

    /// <summary>The line's text without its line break.</summary>
    public string LineText(int zeroBasedLine)
    {
        var start = _lineStarts[zeroBasedLine];
        var end = zeroBasedLine + 1 < _lineStarts.Length ? _lineStarts[zeroBasedLine + 1] : Text.Length;
        while (end > start && (Text[end - 1] == '\n' || Text[end - 1] == '\r')) end--;
        return Text[start..end];
    }

    /// <summary>1-based line and column of a character index.</summary>
    public (int Line, int Column) Position(int index)
    {
        var line = Array.BinarySearch(_lineStarts, index);
        if (line < 0) line = ~line - 1;
        return (line + 1, index - _lineStarts[line] + 1);
    }

    /// <summary>Writes <paramref name="text"/> with this file's BOM, encoded in pieces: a whole encoded copy would be one more file's worth of memory.</summary>
    public async Task WriteAsync(Stream stream, string text, CancellationToken cancellationToken)
    {
        if (HasBom) await stream.WriteAsync(Utf8Bom, cancellationToken).ConfigureAwait(false);
        await using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16, leaveOpen: true);
        await writer.WriteAsync(text.AsMemory(), cancellationToken).ConfigureAwait(false);
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static HarborOpsException NotText(string path, string why) =>
        new(CutOverErrorIds.FileBinary, FailureKind.InvalidData,
            $"'{path}' was skipped: {why}. Image references are read from UTF-8 text files only; leave it out with -Exclude.", path);
}
