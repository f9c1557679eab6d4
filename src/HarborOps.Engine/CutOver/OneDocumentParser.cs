using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace HarborOps.Engine.CutOver;

/// <summary>
/// Shows YamlStream one document of a longer stream as if it were the whole stream, so documents are loaded (and
/// dropped) one at a time: YamlStream.Load reads every document before it returns, and YamlDocument's constructor from
/// a parser is not public. Marks stay those of the real parser, so positions are the file's.
/// </summary>
internal sealed class OneDocumentParser : IParser
{
    private readonly IParser inner;
    private readonly ParsingEvent streamStart;
    private int state; // 0 before the stream start, 1 in the document, 2 at the stream end, 3 done

    private OneDocumentParser(IParser inner, ParsingEvent streamStart)
    {
        this.inner = inner;
        this.streamStart = streamStart;
    }

    /// <summary>The next document of <paramref name="parser"/> as a stream of its own, or null after the last one.</summary>
    public static YamlStream? Next(IParser parser)
    {
        if (parser.Current is null && !parser.MoveNext()) return null;
        if (parser.Current is StreamStart && !parser.MoveNext()) return null;
        if (parser.Current is StreamEnd or null) return null;
        var stream = new YamlStream();
        stream.Load(new OneDocumentParser(parser, new StreamStart(parser.Current.Start, parser.Current.Start)));
        return stream;
    }

    public ParsingEvent? Current => state switch
    {
        0 => null,
        1 => streamStart,
        2 => inner.Current,
        3 => new StreamEnd(inner.Current?.Start ?? Mark.Empty, inner.Current?.Start ?? Mark.Empty),
        _ => null,
    };

    public bool MoveNext()
    {
        switch (state)
        {
            case 0:
                state = 1; // the synthetic stream start; the real parser already stands on the document start
                return true;
            case 1:
                state = 2;
                return true;
            case 2:
                var ended = inner.Current is DocumentEnd;
                inner.MoveNext();
                if (ended) state = 3;
                return true;
            default:
                state = 4;
                return false;
        }
    }
}
