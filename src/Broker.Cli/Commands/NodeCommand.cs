using System.CommandLine;
using Broker.Server.Hosting;

namespace Broker.Cli.Commands;

/// <summary>`broker node`: runs a broker node until Ctrl+C / SIGTERM.</summary>
public static class NodeCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "HOCON file layered over hocon/node.conf (see src/Broker.Server/reference.conf for every key)" };
        var host = new Option<string?>("--host") { Description = "Address to listen on, and to advertise unless --public-host is given (default 127.0.0.1; env BROKER_HOST)" };
        var port = new Option<int?>("--port") { Description = $"Port to listen on, and to advertise unless --public-port is given (default {BrokerNode.DefaultPort}; env BROKER_PORT)" };
        var publicHost = new Option<string?>("--public-host") { Description = "Host other nodes and clients reach this node at, when not --host (e.g. --host 0.0.0.0 in a container; env BROKER_PUBLIC_HOST)" };
        var publicPort = new Option<int?>("--public-port") { Description = "Port other nodes and clients reach this node at, when not --port (a published container port; env BROKER_PUBLIC_PORT)" };
        var seeds = new Option<string?>("--seeds") { Description = "Seed nodes host:port,... to join (default: this node seeds its own cluster; env BROKER_SEEDS)" };
        var role = new Option<string?>("--role") { Description = "seed or worker (default seed; env BROKER_ROLE)" };
        role.AcceptOnlyFromAmong("seed", "worker");
        var dataDir = new Option<string?>("--data-dir") { Description = "Where the SQLite journal lives (default ./data; env BROKER_DATA_DIR)" };
        var nodeId = new Option<int?>("--node-id") { Description = "Broker id for a new data directory, e.g. 1, 2, 3 (default: random; kept in <data-dir>/node.id; env BROKER_NODE_ID)" };
        var voters = new Option<string?>("--voters")
        {
            Description = "The metadata quorum's voters, the same list on every node of a cluster: id@ip:port,... (Kafka's controller.quorum.voters), "
                + "e.g. 1@127.0.0.1:9301,2@127.0.0.1:9302,3@127.0.0.1:9303; each node runs with the --node-id its entry names (env BROKER_VOTERS)",
        };
        var rack = new Option<string?>("--rack") { Description = "Rack or zone of this node (Kafka's broker.rack): consumers with the same ClientRack read from its replicas (env BROKER_RACK)" };
        var kafkaPort = new Option<int?>("--kafka-port") { Description = "Port of the Kafka wire-protocol listener for Kafka clients (default 9092, 0 = any free port; env BROKER_KAFKA_PORT)" };
        var noKafka = new Option<bool>("--no-kafka") { Description = "Run without the Kafka listener (broker.kafka.enabled = off)" };
        var httpPort = new Option<int?>("--http-port") { Description = "Port of the web page, /api, /metrics and /health (default 8080, 0 = any free port; env BROKER_HTTP_PORT)" };
        var noHttp = new Option<bool>("--no-http") { Description = "Run without the web page, /api, /metrics and /health (broker.http.enabled = off)" };
        var clusterCa = new Option<string?>("--cluster-ca") { Description = "Cluster CA certificate (PEM): turns on mutual TLS between nodes (broker.security.cluster-ca; env BROKER_CLUSTER_CA; see `broker certs`)" };
        var nodeCert = new Option<string?>("--node-cert") { Description = "This node's certificate (PEM, CN=node-*) from the cluster CA (env BROKER_NODE_CERT)" };
        var nodeKey = new Option<string?>("--node-key") { Description = "This node's private key (PEM) (env BROKER_NODE_KEY)" };

        var command = new Command("node", """
            Run a broker node. With no options it listens on 127.0.0.1:9190 and stores its log in
            ./data/broker.db (SQLite, WAL). Flags override BROKER_* environment variables, which override
            --config, which overrides hocon/node.conf.

            Seeds are named by the address they advertise (--public-host/--public-port when given).

            Kafka clients (librdkafka, Java, kcat, ...) connect to the Kafka listener, port 9092 by default:
            nodes sharing a host each need their own --kafka-port.

            --cluster-ca, --node-cert and --node-key turn on mutual TLS between nodes (files from
            `broker certs`; every node of the cluster needs them; docs/security.md).

            Example: broker node --port 9191 --kafka-port 9093 --data-dir /var/lib/broker --seeds 127.0.0.1:9190
            """)
        {
            config, host, port, publicHost, publicPort, seeds, role, dataDir, rack, nodeId, voters, kafkaPort, noKafka, httpPort, noHttp, clusterCa, nodeCert, nodeKey,
        };
        command.SetAction((parse, ct) => CliRunner.Run(async () =>
        {
            var overrides = new NodeOverrides
            {
                ConfigFile = parse.GetValue(config),
                Host = parse.GetValue(host),
                Port = parse.GetValue(port),
                PublicHost = parse.GetValue(publicHost),
                Rack = parse.GetValue(rack),
                NodeId = parse.GetValue(nodeId),
                PublicPort = parse.GetValue(publicPort),
                Seeds = parse.GetValue(seeds)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Role = parse.GetValue(role),
                DataDir = parse.GetValue(dataDir),
                KafkaPort = parse.GetValue(kafkaPort),
                KafkaEnabled = parse.GetValue(noKafka) ? false : null,
                HttpPort = parse.GetValue(httpPort),
                HttpEnabled = parse.GetValue(noHttp) ? false : null,
                Voters = parse.GetValue(voters)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                ClusterCa = parse.GetValue(clusterCa),
                NodeCert = parse.GetValue(nodeCert),
                NodeKey = parse.GetValue(nodeKey),
            };
            try
            {
                await BrokerNode.RunAsync(overrides, Started, reason => Console.WriteLine($"restarting: {reason}"), ct);
            }
            catch (Exception ex) when (ex is Akka.Configuration.ConfigurationException or FileNotFoundException or IOException or InvalidOperationException)
            {
                Console.Error.WriteLine($"error: the node could not start or stopped: {ex.Message}");
                return CliRunner.Failed;
            }
            Console.WriteLine("stopped: left the cluster");
            return CliRunner.Ok;
        }));
        return command;
    }

    private static void Started(BrokerNode node)
    {
        var bound = $"{node.Settings.Host}:{node.Settings.Port}";
        Console.WriteLine(bound == node.Address
            ? $"broker node listening on {node.Address} (role {node.Settings.Role})"
            : $"broker node listening on {bound}, reached at {node.Address} (role {node.Settings.Role})");
        if (node.KafkaListener is { } kafka)
            Console.WriteLine($"Kafka clients: bootstrap {kafka.AdvertisedHost}:{kafka.AdvertisedPort} (listening on port {kafka.BoundPort})");
        if (node.Monitor is { } web)
            Console.WriteLine($"web page, /api, /metrics and /health: http://{web.Host}:{web.BoundPort}/");
        Console.WriteLine($"data directory {node.Settings.DataDirectory}, journal {node.Settings.JournalPath}");
        Console.WriteLine("press Ctrl+C to stop");
    }
}
