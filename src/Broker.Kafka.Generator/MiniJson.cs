using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Broker.Kafka.Generator;

/// <summary>
/// A small JSON reader for Kafka's message schemas, which are JSON with // comments. A generator cannot
/// bring System.Text.Json into the compiler without shipping it beside the analyzer, and these files need
/// no more than objects, arrays, strings, numbers and literals.
/// </summary>
internal sealed class MiniJson
{
    private readonly string _text;
    private int _pos;

    private MiniJson(string text) => _text = text;

    /// <summary>Objects become Dictionary&lt;string, object?&gt;, arrays List&lt;object?&gt;, numbers and strings string, literals bool or null.</summary>
    public static object? Parse(string text)
    {
        var json = new MiniJson(text);
        var value = json.ReadValue();
        json.SkipSpace();
        if (json._pos != text.Length) throw json.Error("trailing characters");
        return value;
    }

    private object? ReadValue()
    {
        SkipSpace();
        if (_pos >= _text.Length) throw Error("unexpected end");
        var c = _text[_pos];
        switch (c)
        {
            case '{': return ReadObject();
            case '[': return ReadArray();
            case '"': return ReadString();
            case 't': Expect("true"); return true;
            case 'f': Expect("false"); return false;
            case 'n': Expect("null"); return null;
            default: return ReadNumber();
        }
    }

    private Dictionary<string, object?> ReadObject()
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        _pos++;
        SkipSpace();
        if (Peek() == '}') { _pos++; return result; }
        while (true)
        {
            SkipSpace();
            var key = ReadString();
            SkipSpace();
            if (Peek() != ':') throw Error("expected ':'");
            _pos++;
            result[key] = ReadValue();
            SkipSpace();
            var next = Peek();
            _pos++;
            if (next == '}') return result;
            if (next != ',') throw Error("expected ',' or '}'");
        }
    }

    private List<object?> ReadArray()
    {
        var result = new List<object?>();
        _pos++;
        SkipSpace();
        if (Peek() == ']') { _pos++; return result; }
        while (true)
        {
            result.Add(ReadValue());
            SkipSpace();
            var next = Peek();
            _pos++;
            if (next == ']') return result;
            if (next != ',') throw Error("expected ',' or ']'");
        }
    }

    private string ReadString()
    {
        if (Peek() != '"') throw Error("expected a string");
        _pos++;
        var sb = new StringBuilder();
        while (_pos < _text.Length)
        {
            var c = _text[_pos++];
            if (c == '"') return sb.ToString();
            if (c != '\\') { sb.Append(c); continue; }
            var e = _text[_pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'u':
                    sb.Append((char)int.Parse(_text.Substring(_pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    _pos += 4;
                    break;
                default: sb.Append(e); break;
            }
        }
        throw Error("unterminated string");
    }

    private string ReadNumber()
    {
        var start = _pos;
        while (_pos < _text.Length && "+-0123456789.eE".IndexOf(_text[_pos]) >= 0) _pos++;
        if (_pos == start) throw Error("unexpected character '" + _text[_pos] + "'");
        return _text.Substring(start, _pos - start);
    }

    private void Expect(string literal)
    {
        if (string.CompareOrdinal(_text, _pos, literal, 0, literal.Length) != 0) throw Error("expected " + literal);
        _pos += literal.Length;
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private void SkipSpace()
    {
        while (_pos < _text.Length)
        {
            var c = _text[_pos];
            if (char.IsWhiteSpace(c)) { _pos++; continue; }
            if (c == '/' && _pos + 1 < _text.Length && _text[_pos + 1] == '/')
            {
                while (_pos < _text.Length && _text[_pos] != '\n') _pos++;
                continue;
            }
            if (c == '/' && _pos + 1 < _text.Length && _text[_pos + 1] == '*')
            {
                var end = _text.IndexOf("*/", _pos + 2, StringComparison.Ordinal);
                _pos = end < 0 ? _text.Length : end + 2;
                continue;
            }
            return;
        }
    }

    private FormatException Error(string what)
    {
        var line = 1;
        for (var i = 0; i < _pos && i < _text.Length; i++) if (_text[i] == '\n') line++;
        return new FormatException("schema JSON line " + line.ToString(CultureInfo.InvariantCulture) + ": " + what);
    }
}
