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
    private readonly IParser _inner;
    private readonly ParsingEvent _streamStart;
    private int _state; // 0 before the stream start, 1 in the document, 2 at the stream end, 3 done

    private OneDocumentParser(IParser inner, ParsingEvent streamStart)
    {
        this._inner = inner;
        this._streamStart = streamStart;
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

    public ParsingEvent? Current => _state switch
    {
        0 => null,
        1 => _streamStart,
        2 => _inner.Current,
        3 => new StreamEnd(_inner.Current?.Start ?? Mark.Empty, _inner.Current?.Start ?? Mark.Empty),
        _ => null,
    };

    public bool MoveNext()
    {
        switch (_state)
        {
            case 0:
                _state = 1; // the synthetic stream start; the real parser already stands on the document start
                return true;
            case 1:
                _state = 2;
                return true;
            case 2:
                var ended = _inner.Current is DocumentEnd;
                _inner.MoveNext();
                if (ended) _state = 3;
                return true;
            default:
                _state = 4;
                return false;
        }
    }
}
