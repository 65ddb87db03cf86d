using System;
using System.Collections.Generic;
using System.Globalization;

namespace Broker.Kafka.Generator;

/// <summary>An inclusive version range of Kafka's schema syntax: "3+", "0-4", "5", "none".</summary>
internal readonly struct Versions
{
    public static readonly Versions None = new Versions(1, 0);

    public Versions(int lowest, int highest)
    {
        Lowest = lowest;
        Highest = highest;
    }

    public int Lowest { get; }
    /// <summary>short.MaxValue for an open range ("3+").</summary>
    public int Highest { get; }
    public bool IsEmpty => Lowest > Highest;

    public static Versions Parse(string? text)
    {
        if (text is null || text.Length == 0 || text == "none") return None;
        if (text.EndsWith("+", StringComparison.Ordinal)) return new Versions(Number(text.Substring(0, text.Length - 1)), short.MaxValue);
        var dash = text.IndexOf('-');
        if (dash > 0) return new Versions(Number(text.Substring(0, dash)), Number(text.Substring(dash + 1)));
        var single = Number(text);
        return new Versions(single, single);
    }

    public Versions Intersect(Versions other) => new Versions(Math.Max(Lowest, other.Lowest), Math.Min(Highest, other.Highest));

    public bool Contains(Versions other) => other.IsEmpty || (Lowest <= other.Lowest && other.Highest <= Highest);

    /// <summary>A C# condition on the local <c>version</c> that holds inside this range, given the message's own valid range.</summary>
    public string Condition(Versions valid)
    {
        if (IsEmpty || Intersect(valid).IsEmpty) return "false";
        if (Contains(valid)) return "true";
        var low = Lowest > valid.Lowest ? "version >= " + Lowest.ToString(CultureInfo.InvariantCulture) : null;
        var high = Highest < valid.Highest ? "version <= " + Highest.ToString(CultureInfo.InvariantCulture) : null;
        if (low is not null && high is not null) return "(" + low + " && " + high + ")";
        return low ?? high ?? "true";
    }

    private static int Number(string text) => int.Parse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture);
}

/// <summary>One field of a message or struct, as the schema declares it.</summary>
internal sealed class FieldSpec
{
    public string Name = "";
    public string Type = "";
    public string About = "";
    public Versions Versions;
    public Versions NullableVersions = Versions.None;
    public Versions TaggedVersions = Versions.None;
    public int Tag = -1;
    /// <summary>Set for a field that overrides the message's flexible versions (the header's ClientId: "none").</summary>
    public Versions? FlexibleVersions;
    public string? Default;
    public List<FieldSpec> Fields = new List<FieldSpec>();

    /// <summary>The property name: the schema's name with its first letter capitalised (a few schemas write "timeoutMs").</summary>
    public string ClrName => Name.Length == 0 ? Name : char.ToUpperInvariant(Name[0]) + Name.Substring(1);

    public bool IsArray => Type.StartsWith("[]", StringComparison.Ordinal);
    public string ElementType => IsArray ? Type.Substring(2) : Type;
    /// <summary>A struct (array of structs or single struct): the schema lists its fields inline.</summary>
    public bool HasStruct => Fields.Count > 0;
    public bool IsTagged => Tag >= 0;

    public static FieldSpec From(Dictionary<string, object?> json)
    {
        var field = new FieldSpec
        {
            Name = Str(json, "name") ?? throw new FormatException("a field has no name"),
            Type = Str(json, "type") ?? throw new FormatException("field has no type"),
            About = Str(json, "about") ?? "",
            Versions = Versions.Parse(Str(json, "versions")),
            NullableVersions = Versions.Parse(Str(json, "nullableVersions")),
            TaggedVersions = Versions.Parse(Str(json, "taggedVersions")),
            Default = Str(json, "default"),
        };
        if (Str(json, "tag") is { } tag) field.Tag = int.Parse(tag, CultureInfo.InvariantCulture);
        if (Str(json, "flexibleVersions") is { } flexible) field.FlexibleVersions = Versions.Parse(flexible);
        if (json.TryGetValue("fields", out var fields) && fields is List<object?> list)
        {
            foreach (var f in list) field.Fields.Add(From((Dictionary<string, object?>)f!));
        }
        return field;
    }

    internal static string? Str(Dictionary<string, object?> json, string key) =>
        json.TryGetValue(key, out var value) ? value switch
        {
            null => null,
            string s => s,
            bool b => b ? "true" : "false",
            _ => value.ToString(),
        } : null;
}

/// <summary>A whole schema file: a request, a response or a header.</summary>
internal sealed class MessageSpec
{
    public string Name = "";
    public string Kind = "";
    public int ApiKey = -1;
    public Versions Valid;
    public Versions Flexible;
    public List<FieldSpec> Fields = new List<FieldSpec>();

    public static MessageSpec Parse(string text)
    {
        var json = MiniJson.Parse(text) as Dictionary<string, object?> ?? throw new FormatException("a schema is a JSON object");
        var spec = new MessageSpec
        {
            Name = FieldSpec.Str(json, "name") ?? throw new FormatException("schema has no name"),
            Kind = FieldSpec.Str(json, "type") ?? "",
            Valid = Versions.Parse(FieldSpec.Str(json, "validVersions")),
            Flexible = Versions.Parse(FieldSpec.Str(json, "flexibleVersions")),
        };
        if (FieldSpec.Str(json, "apiKey") is { } key) spec.ApiKey = int.Parse(key, CultureInfo.InvariantCulture);
        if (json.TryGetValue("fields", out var fields) && fields is List<object?> list)
        {
            foreach (var f in list) spec.Fields.Add(FieldSpec.From((Dictionary<string, object?>)f!));
        }
        if (json.TryGetValue("commonStructs", out var common) && common is List<object?> structs)
        {
            // A common struct is declared once and used by type name (ConsumerGroupHeartbeatResponse's TopicPartitions):
            // give each field of that type the struct's fields, as if declared inline.
            var byName = new Dictionary<string, List<FieldSpec>>(StringComparer.Ordinal);
            foreach (var c in structs)
            {
                var declared = FieldSpec.From(WithType((Dictionary<string, object?>)c!));
                byName[declared.Name] = declared.Fields;
            }
            ResolveCommon(spec.Fields, byName);
        }
        return spec;
    }

    private static Dictionary<string, object?> WithType(Dictionary<string, object?> json)
    {
        var copy = new Dictionary<string, object?>(json, StringComparer.Ordinal);
        if (!copy.ContainsKey("type")) copy["type"] = copy["name"];
        return copy;
    }

    private static void ResolveCommon(List<FieldSpec> fields, Dictionary<string, List<FieldSpec>> common)
    {
        foreach (var f in fields)
        {
            if (f.Fields.Count == 0 && common.TryGetValue(f.ElementType, out var declared)) f.Fields = declared;
            ResolveCommon(f.Fields, common);
        }
    }
}
