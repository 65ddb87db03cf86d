using System.Net;
using System.Net.Sockets;
using Broker.Server.Hosting;
using Broker.Server.Kafka;
using Xunit.Abstractions;

namespace Broker.Server.Tests.Kafka;

/// <summary>A whole node (<see cref="NodeTestKit"/>) with its Kafka listener on a free port, and raw sockets to it.</summary>
public abstract class KafkaListenerTestKit : NodeTestKit
{
    protected KafkaListenerTestKit(ITestOutputHelper output, string extraHocon = "", Func<KafkaSettings, KafkaSettings>? kafka = null) : base(output, extraHocon)
    {
        var (_, settings) = NodeConfig.Load(new NodeOverrides { DataDir = DataDir, KafkaPort = 0 });
        var listening = settings.Kafka with { Host = "127.0.0.1" };
        Listener = KafkaListener.TryBind(kafka?.Invoke(listening) ?? listening, out var problem)
            ?? throw new InvalidOperationException(problem);
        Listener.Start(Sys, Gateway);
    }

    protected KafkaListener Listener { get; }

    protected override void AfterAll()
    {
        Listener.StopAsync().Wait(TimeSpan.FromSeconds(10));
        base.AfterAll();
    }

    protected async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Listener.BoundPort));
        return socket;
    }
}
