using System.Text;
using Broker.Protocol.Records;
using Xunit;

namespace Broker.Protocol.Tests.Records;

public sealed class Crc32CTests
{
    [Fact]
    public void Matches_the_Castagnoli_check_value() =>
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));

    [Fact]
    public void Append_continues_a_crc_over_more_data()
    {
        var data = new byte[1000];
        new Random(7).NextBytes(data);
        Assert.Equal(Crc32C.Compute(data), Crc32C.Append(Crc32C.Compute(data.AsSpan(0, 333)), data.AsSpan(333)));
    }

    [Fact]
    public void Empty_input_has_crc_zero() => Assert.Equal(0u, Crc32C.Compute([]));
}
