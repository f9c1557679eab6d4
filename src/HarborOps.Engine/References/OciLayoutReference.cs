namespace HarborOps.Engine.References;

/// <summary>
/// The one grammar of "oci:" text, used by the engine's parsers and by the cmdlets that make a relative layout directory
/// absolute against PowerShell's location. An image in a layout is "oci:&lt;directory&gt;[:tag|@digest]"; a layout (or a
/// directory of layouts) as a whole, as a registry or a copy destination, is "oci:&lt;directory&gt;" where all the text
/// is the directory. The directory ends where the image's name begins:
/// <list type="bullet">
/// <item>an '@' after the last path separator with a ':' after it starts a digest ("oci:dir@sha256:...");</item>
/// <item>otherwise a ':' after the last path separator starts a tag ("oci:dir:1.0"), except the drive of "C:dir" on Windows.</item>
/// </list>
/// So folder names may hold '@' and ':' ("oci:/srv/a@b:c/layout:1.0" is the tag 1.0 of /srv/a@b:c/layout).
/// Splitting validates nothing: the tag and digest grammar is <see cref="ImageReference"/>'s.
/// </summary>
/// <param name="Directory">The layout directory as written (relative or absolute); empty when the text has none.</param>
/// <param name="Tag">The text after the tag's ':', or null.</param>
/// <param name="Digest">The text after the digest's '@', or null.</param>
public sealed record OciLayoutReference(string Directory, string? Tag, string? Digest)
{
    public const string Prefix = "oci:";

    /// <summary>Whether <paramref name="text"/> names an OCI layout ("oci:" in any case, after leading white space).</summary>
    public static bool IsLayout(string? text) =>
        text is not null && text.TrimStart().StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>Splits an image reference in a layout ("oci:dir[:tag|@digest]", the prefix included) into its parts.</summary>
    public static OciLayoutReference Split(string text) => Split(text, OperatingSystem.IsWindows());

    /// <summary><see cref="Split(string)"/> with the drive-letter rule of Windows or not, so both can be tested anywhere.</summary>
    internal static OciLayoutReference Split(string text, bool windowsDrives)
    {
        var rest = WithoutPrefix(text);
        var lastSeparator = Math.Max(rest.LastIndexOf('/'), rest.LastIndexOf('\\'));
        var at = rest.LastIndexOf('@');
        if (at > lastSeparator && rest.IndexOf(':', at) > at)
            return new OciLayoutReference(rest[..at], null, rest[(at + 1)..]);
        var colon = rest.LastIndexOf(':');
        var isDrive = colon == 1 && char.IsAsciiLetter(rest[0]) && windowsDrives;
        return colon > lastSeparator && !isDrive
            ? new OciLayoutReference(rest[..colon], rest[(colon + 1)..], null)
            : new OciLayoutReference(rest, null, null);
    }

    /// <summary>The directory of a layout named as a whole ("oci:dir", the prefix included): all the text after the prefix.</summary>
    public static string DirectoryOf(string text) => WithoutPrefix(text);

    /// <summary>
    /// An image reference with its layout directory made absolute by <paramref name="resolveDirectory"/> (the cmdlets
    /// pass PowerShell's path resolution), tag and digest kept as written. Text that is not "oci:" comes back as it is,
    /// and so does text without a directory: the parser that reads it later says what is wrong, for its own item.
    /// </summary>
    public static string ResolveImage(string text, Func<string, string> resolveDirectory)
    {
        ArgumentNullException.ThrowIfNull(resolveDirectory);
        if (!IsLayout(text)) return text;
        var parts = Split(text);
        return parts.Directory.Length == 0 ? text : (parts with { Directory = resolveDirectory(parts.Directory) }).ToString();
    }

    /// <summary>A layout named as a whole ("oci:dir") with its directory made absolute, as <see cref="ResolveImage"/> does for an image.</summary>
    public static string ResolveDirectory(string text, Func<string, string> resolveDirectory)
    {
        ArgumentNullException.ThrowIfNull(resolveDirectory);
        if (!IsLayout(text)) return text;
        var directory = DirectoryOf(text);
        return directory.Length == 0 ? text : Prefix + resolveDirectory(directory);
    }

    /// <summary>"oci:dir", then ":tag" and "@digest" when present: the text <see cref="Split(string)"/> reads back.</summary>
    public override string ToString() =>
        Prefix + Directory + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    private static string WithoutPrefix(string text)
    {
        var trimmed = text.Trim();
        if (!trimmed.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"'{text}' does not start with '{Prefix}'.", nameof(text));
        return trimmed[Prefix.Length..];
    }
}
