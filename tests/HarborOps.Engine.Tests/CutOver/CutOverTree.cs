using System.Text;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.CutOver;

/// <summary>A private copy of tests/fixtures/cutover (the realistic tree), so a test can rewrite it.</summary>
internal sealed class CutOverTree : IDisposable
{
    public const string OldRegistry = "contoso.azurecr.io";

    public CutOverTree()
    {
        Source = Path.Combine(HarborOps.Lab.Tests.Fixtures.RepositoryFiles.Root(), "tests", "fixtures", "cutover");
        Root = Path.Combine(Path.GetTempPath(), "harborops-cutover-" + Guid.NewGuid().ToString("N"));
        foreach (var file in Directory.GetFiles(Source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(Root, Path.GetRelativePath(Source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    public string Source { get; }
    public string Root { get; }

    public string PathOf(string relative) => Path.Combine(Root, relative);

    public byte[] OriginalBytes(string absolutePath) => File.ReadAllBytes(Path.Combine(Source, Path.GetRelativePath(Root, absolutePath)));

    public string Text(string relative) => Encoding.UTF8.GetString(File.ReadAllBytes(PathOf(relative)));

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { /* a leftover temp folder is harmless */ }
    }

    /// <summary>
    /// Applies the reported changes to the original bytes, each at its line and column, checking the old value sits
    /// there; the result must be the rewritten file byte for byte, which proves nothing outside the spans changed.
    /// </summary>
    public static byte[] ApplyReportedChanges(byte[] original, IEnumerable<ImageReferenceChange> changes)
    {
        var hasBom = original.AsSpan().StartsWith(new byte[] { 0xEF, 0xBB, 0xBF });
        var text = Encoding.UTF8.GetString(original, hasBom ? 3 : 0, original.Length - (hasBom ? 3 : 0));
        var lineStarts = new List<int> { 0 };
        for (var i = 0; i < text.Length; i++) if (text[i] == '\n') lineStarts.Add(i + 1);
        var builder = new StringBuilder();
        var position = 0;
        foreach (var change in changes.Where(c => c.Action is ImageReferenceAction.Rewritten or ImageReferenceAction.Planned)
                     .OrderBy(c => c.Line).ThenBy(c => c.Column))
        {
            var start = lineStarts[change.Line - 1] + change.Column - 1;
            Assert.True(start >= position, $"change at {change.Line}:{change.Column} overlaps the previous one");
            Assert.Equal(change.OldValue, text.Substring(start, change.OldValue.Length));
            builder.Append(text, position, start - position).Append(change.NewValue);
            position = start + change.OldValue.Length;
        }
        builder.Append(text, position, text.Length - position);
        var body = Encoding.UTF8.GetBytes(builder.ToString());
        return hasBom ? [0xEF, 0xBB, 0xBF, .. body] : body;
    }
}
