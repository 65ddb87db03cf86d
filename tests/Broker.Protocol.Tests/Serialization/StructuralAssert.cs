// Deep equality for protocol messages: records holding lists, maps or ReadOnlyMemory are not equal by
// value, so this walks properties, compares collections element-wise and bytes with SequenceEqual.
using System.Collections;
using System.Reflection;
using Xunit;

namespace Broker.Protocol.Tests.Serialization;

internal static class StructuralAssert
{
    public static void Equal(object? expected, object? actual, string path = "message")
    {
        if (expected is null || actual is null)
        {
            Assert.True(expected is null && actual is null, $"{path}: expected {expected ?? "null"}, got {actual ?? "null"}");
            return;
        }

        switch (expected)
        {
            case ReadOnlyMemory<byte> bytes:
                Assert.True(actual is ReadOnlyMemory<byte>, $"{path}: expected bytes, got {actual.GetType()}");
                var other = (ReadOnlyMemory<byte>)actual;
                Assert.True(bytes.Span.SequenceEqual(other.Span), $"{path}: {bytes.Length} bytes expected, {other.Length} bytes differ");
                return;
            case string or Enum or ValueType:
                Assert.True(expected.Equals(actual), $"{path}: expected {expected}, got {actual}");
                return;
            case IReadOnlyDictionary<string, string> map:
                var actualMap = Assert.IsAssignableFrom<IReadOnlyDictionary<string, string>>(actual);
                Assert.True(map.Count == actualMap.Count, $"{path}: expected {map.Count} entries, got {actualMap.Count}");
                foreach (var (key, value) in map)
                {
                    Assert.True(actualMap.TryGetValue(key, out var v), $"{path}: key '{key}' missing");
                    Assert.True(value == v, $"{path}[{key}]: expected {value}, got {v}");
                }
                return;
            case IEnumerable items:
                var expectedList = items.Cast<object?>().ToList();
                var actualList = Assert.IsAssignableFrom<IEnumerable>(actual).Cast<object?>().ToList();
                Assert.True(expectedList.Count == actualList.Count, $"{path}: expected {expectedList.Count} items, got {actualList.Count}");
                for (var i = 0; i < expectedList.Count; i++) Equal(expectedList[i], actualList[i], $"{path}[{i}]");
                return;
        }

        Assert.True(expected.GetType() == actual.GetType(), $"{path}: expected {expected.GetType().Name}, got {actual.GetType().Name}");
        foreach (var property in expected.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
            Equal(property.GetValue(expected), property.GetValue(actual), $"{path}.{property.Name}");
    }
}
