using Broker.Protocol.Transport;
using DotNetty.Common;
using Xunit;

namespace Broker.Protocol.Tests.Transport;

/// <summary>DotNetty's leak sampling is off in our processes unless the environment names a level.</summary>
public sealed class NettyLeakDetectionTests
{
    [Fact]
    public void Without_the_environment_variable_leak_detection_is_turned_off()
    {
        Assert.Null(Environment.GetEnvironmentVariable("io.netty.leakDetection.level"));
        ResourceLeakDetector.Level = ResourceLeakDetector.DetectionLevel.Simple; // DotNetty's own default
        NettyLeakDetection.DisableUnlessAsked();
        Assert.Equal(ResourceLeakDetector.DetectionLevel.Disabled, ResourceLeakDetector.Level);
    }
}
