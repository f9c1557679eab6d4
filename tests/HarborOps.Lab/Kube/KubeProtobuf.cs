using System.Text;
using System.Text.Json.Nodes;

namespace HarborOps.Lab.Kube;

/// <summary>
/// Reads the protobuf bodies kubectl's typed clients send (client-go 1.32 defaults built-in types to
/// <c>application/vnd.kubernetes.protobuf</c>: <c>kubectl create namespace|secret|serviceaccount</c>) into the JSON
/// the emulator stores. Only the kinds and fields those commands write are mapped; anything else is a 415 that says so,
/// never a silently wrong object. Wire format: "k8s\0" + runtime.Unknown{typeMeta=1{apiVersion=1, kind=2}, raw=2}.
/// </summary>
public static class KubeProtobuf
{
    public const string ContentType = "application/vnd.kubernetes.protobuf";

    private enum Shape { String, Bytes, Bool, Int, Message, StringMap, BytesMap }

    private sealed record Field(string Name, Shape Shape, bool Repeated = false, Field[]? Message = null, int Number = 0);

    private static Field F(int number, string name, Shape shape, bool repeated = false, Field[]? message = null) => new(name, shape, repeated, message, number);

    private static readonly Field[] ObjectMeta =
    [
        F(1, "name", Shape.String), F(2, "generateName", Shape.String), F(3, "namespace", Shape.String), F(5, "uid", Shape.String),
        F(6, "resourceVersion", Shape.String), F(11, "labels", Shape.StringMap), F(12, "annotations", Shape.StringMap),
        F(14, "finalizers", Shape.String, repeated: true),
    ];

    private static readonly Dictionary<string, Field[]> Kinds = new(StringComparer.Ordinal)
    {
        ["Namespace"] = [F(1, "metadata", Shape.Message, message: ObjectMeta), F(2, "spec", Shape.Message, message: [F(1, "finalizers", Shape.String, repeated: true)])],
        ["Secret"] =
        [
            F(1, "metadata", Shape.Message, message: ObjectMeta), F(2, "data", Shape.BytesMap), F(3, "type", Shape.String),
            F(4, "stringData", Shape.StringMap), F(5, "immutable", Shape.Bool),
        ],
        ["ServiceAccount"] =
        [
            F(1, "metadata", Shape.Message, message: ObjectMeta),
            F(2, "secrets", Shape.Message, repeated: true, message: [F(1, "kind", Shape.String), F(2, "namespace", Shape.String), F(3, "name", Shape.String)]),
            F(3, "imagePullSecrets", Shape.Message, repeated: true, message: [F(1, "name", Shape.String)]),
            F(4, "automountServiceAccountToken", Shape.Bool),
        ],
    };

    public static JsonObject Decode(byte[] body)
    {
        if (body.Length < 4 || body[0] != 'k' || body[1] != '8' || body[2] != 's' || body[3] != 0)
            throw KubeApiError.BadRequest("protobuf body without the k8s envelope");
        string? apiVersion = null, kind = null;
        byte[]? raw = null;
        foreach (var (number, value) in Fields(body.AsMemory(4)))
        {
            if (number == 1)
                foreach (var (tm, tv) in Fields(value))
                {
                    if (tm == 1) apiVersion = Encoding.UTF8.GetString(tv.Span);
                    else if (tm == 2) kind = Encoding.UTF8.GetString(tv.Span);
                }
            else if (number == 2) raw = value.ToArray();
        }
        if (kind is null || !Kinds.TryGetValue(kind, out var schema))
            throw new KubeApiError(415, "UnsupportedMediaType", $"the lab's API server reads protobuf only for {string.Join(", ", Kinds.Keys)}, not {kind}; send application/json");
        var item = ReadMessage(raw ?? [], schema);
        item["kind"] = kind;
        item["apiVersion"] = apiVersion;
        return item;
    }

    private static JsonObject ReadMessage(ReadOnlyMemory<byte> data, Field[] schema)
    {
        var result = new JsonObject();
        foreach (var (number, value, varint) in FieldsWithVarints(data))
        {
            var field = schema.FirstOrDefault(f => f.Number == number);
            if (field is null) continue; // status and the fields no kubectl generator sets
            JsonNode? node = field.Shape switch
            {
                Shape.String => Encoding.UTF8.GetString(value.Span),
                Shape.Bytes => Convert.ToBase64String(value.Span),
                Shape.Bool => varint != 0,
                Shape.Int => (long)varint,
                Shape.Message => ReadMessage(value, field.Message!),
                _ => null,
            };
            if (field.Shape is Shape.StringMap or Shape.BytesMap)
            {
                var map = result[field.Name] as JsonObject ?? (JsonObject)(result[field.Name] = new JsonObject());
                string key = "", entry = "";
                foreach (var (en, ev) in Fields(value))
                {
                    if (en == 1) key = Encoding.UTF8.GetString(ev.Span);
                    else if (en == 2) entry = field.Shape == Shape.BytesMap ? Convert.ToBase64String(ev.Span) : Encoding.UTF8.GetString(ev.Span);
                }
                map[key] = entry;
            }
            else if (field.Repeated)
            {
                var list = result[field.Name] as JsonArray ?? (JsonArray)(result[field.Name] = new JsonArray());
                list.Add(node);
            }
            else
            {
                result[field.Name] = node;
            }
        }
        return result;
    }

    private static IEnumerable<(int Number, ReadOnlyMemory<byte> Value)> Fields(ReadOnlyMemory<byte> data) =>
        FieldsWithVarints(data).Select(f => (f.Number, f.Value));

    private static IEnumerable<(int Number, ReadOnlyMemory<byte> Value, ulong Varint)> FieldsWithVarints(ReadOnlyMemory<byte> data)
    {
        var position = 0;
        while (position < data.Length)
        {
            var tag = ReadVarint(data.Span, ref position);
            var number = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    yield return (number, ReadOnlyMemory<byte>.Empty, ReadVarint(data.Span, ref position));
                    break;
                case 2:
                    var length = (int)ReadVarint(data.Span, ref position);
                    if (position + length > data.Length) throw KubeApiError.BadRequest("truncated protobuf body");
                    yield return (number, data.Slice(position, length), 0);
                    position += length;
                    break;
                case 1:
                    position += 8;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw KubeApiError.BadRequest($"unsupported protobuf wire type {tag & 7}");
            }
        }
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= data.Length) throw KubeApiError.BadRequest("truncated protobuf body");
            var b = data[position++];
            result |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw KubeApiError.BadRequest("malformed protobuf varint");
    }
}
