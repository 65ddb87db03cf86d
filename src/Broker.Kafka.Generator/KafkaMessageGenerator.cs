using System;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Broker.Kafka.Generator;

/// <summary>
/// Emits one C# file per Kafka message schema listed as an AdditionalFiles item (*.json). A schema it
/// cannot handle becomes an #error in the output, so the build names the file instead of dropping it.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class KafkaMessageGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var schemas = context.AdditionalTextsProvider
            .Where(static file => file.Path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            .Select(static (file, ct) => (Name: FileName(file.Path), Text: file.GetText(ct)?.ToString() ?? ""));
        context.RegisterSourceOutput(schemas, static (output, schema) =>
        {
            string source;
            try
            {
                source = MessageEmitter.Emit(schema.Text);
            }
            catch (Exception ex) when (ex is FormatException or InvalidCastException or OverflowException or System.Collections.Generic.KeyNotFoundException)
            {
                source = "#error Kafka schema " + schema.Name + ".json: " + ex.Message.Replace("\n", " ") + "\n";
            }
            output.AddSource(schema.Name + ".g.cs", SourceText.From(source, System.Text.Encoding.UTF8));
        });
    }

    private static string FileName(string path)
    {
        var slash = Math.Max(path.LastIndexOf('/'), path.LastIndexOf('\\'));
        var name = path.Substring(slash + 1);
        var dot = name.LastIndexOf('.');
        return dot > 0 ? name.Substring(0, dot) : name;
    }
}
