using System.Text;
using Broker.Client;

namespace Broker.Cli.Commands;

/// <summary>
/// A --format template such as "{partition} {offset} {key} {value}", compiled once into literal and
/// field parts so printing 100k records does not re-parse it per record.
/// </summary>
public sealed class RecordFormat
{
    private enum Field { Literal, Topic, Partition, Offset, Key, Value, Timestamp }

    private readonly List<(Field Field, string Text)> _parts = new();

    public RecordFormat(string template)
    {
        var text = new StringBuilder();
        for (var i = 0; i < template.Length; i++)
        {
            if (template[i] == '{')
            {
                var end = template.IndexOf('}', i);
                if (end > i && TryField(template[(i + 1)..end], out var field))
                {
                    Flush(text);
                    _parts.Add((field, ""));
                    i = end;
                    continue;
                }
            }
            if (template[i] == '\\' && i + 1 < template.Length && template[i + 1] is 't' or 'n')
            {
                text.Append(template[++i] == 't' ? '\t' : '\n');
                continue;
            }
            text.Append(template[i]);
        }
        Flush(text);
    }

    public void Write(TextWriter output, ConsumeResult r)
    {
        foreach (var (field, literal) in _parts)
        {
            switch (field)
            {
                case Field.Literal: output.Write(literal); break;
                case Field.Topic: output.Write(r.Topic); break;
                case Field.Partition: output.Write(r.Partition); break;
                case Field.Offset: output.Write(r.Offset); break;
                case Field.Key: output.Write(r.Key is null ? "null" : Encoding.UTF8.GetString(r.Key)); break;
                case Field.Value: output.Write(r.Value is null ? "null" : Encoding.UTF8.GetString(r.Value)); break;
                case Field.Timestamp: output.Write(r.Timestamp.ToUnixTimeMilliseconds()); break;
            }
        }
        output.Write('\n');
    }

    private static bool TryField(string name, out Field field)
    {
        field = name switch
        {
            "topic" => Field.Topic,
            "partition" => Field.Partition,
            "offset" => Field.Offset,
            "key" => Field.Key,
            "value" => Field.Value,
            "timestamp" => Field.Timestamp,
            _ => Field.Literal,
        };
        return field != Field.Literal;
    }

    private void Flush(StringBuilder text)
    {
        if (text.Length == 0) return;
        _parts.Add((Field.Literal, text.ToString()));
        text.Clear();
    }
}
