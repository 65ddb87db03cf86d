using System.CommandLine;
using System.Globalization;
using Broker.Server.Security;

namespace Broker.Cli.Commands;

/// <summary>`broker certs create-ca|node|client`: a development CA and certificates for mutual TLS (see docs/security.md).</summary>
public static class CertsCommand
{
    public static Command Create() => new("certs", """
        Make a development CA and certificates for TLS between nodes and on the Kafka listener
        (no openssl needed). `create-ca` writes a cluster CA (signs node certificates) and a distinct
        client CA (signs client certificates: a client certificate is never accepted as a node).
        Keep the *.key files of the CAs private; give each node the cluster-ca.pem and its own pair.

        Example: broker certs create-ca --dir certs
                 broker certs node 1 --dir certs --host 10.0.0.1 --host broker-1
                 broker certs client alice --dir certs
        See docs/security.md.
        """)
    {
        CreateCaCommand(), NodeCommand(), ClientCommand(),
    };

    private static Option<string> Dir() => new("--dir") { Description = "Directory of the CA files (default ./certs)", DefaultValueFactory = _ => "certs" };

    private static Option<int> Days(int fallback) => new("--days") { Description = $"Days the certificate is valid (default {fallback})", DefaultValueFactory = _ => fallback };

    private static Option<bool> Force() => new("--force") { Description = "Overwrite files that already exist" };

    private static Option<string?> Pkcs12() => new("--pkcs12") { Description = "Also write NAME.p12 (certificate, key and CA) protected by this password, for Java key stores" };

    private static Command CreateCaCommand()
    {
        var dir = Dir();
        var days = Days(3650);
        var force = Force();
        var command = new Command("create-ca", "Write a new cluster CA (cluster-ca.pem/.key) and client CA (client-ca.pem/.key) to --dir.")
        {
            dir, days, force,
        };
        command.SetAction(parse => CliRunner.Run(() =>
        {
            var files = new CertificateFiles(parse.GetValue(dir)!);
            foreach (var path in files.CreateCas(Validity(parse.GetValue(days)), parse.GetValue(force)))
                Console.WriteLine($"wrote {path} (and its .key: keep it private)");
            Console.WriteLine($"next: broker certs node NAME --dir {files.Directory} --host HOST");
            return Task.FromResult(CliRunner.Ok);
        }));
        return command;
    }

    private static Command NodeCommand()
    {
        var name = new Argument<string>("name") { Description = "Node name; the certificate's subject is CN=node-NAME (e.g. 1 gives node-1)" };
        var hosts = new Option<string[]>("--host") { Description = "DNS name or IP address the node is reached at (repeatable; default localhost and 127.0.0.1)" };
        var dir = Dir();
        var days = Days(825);
        var pkcs12 = Pkcs12();
        var force = Force();
        var command = new Command("node", "Issue a node certificate from the cluster CA in --dir: node-NAME.pem and node-NAME.key.")
        {
            name, hosts, dir, days, pkcs12, force,
        };
        command.SetAction(parse => CliRunner.Run(() =>
        {
            var files = new CertificateFiles(parse.GetValue(dir)!);
            var given = parse.GetValue(hosts) is { Length: > 0 } h ? h : ["localhost", "127.0.0.1"];
            Report(files.IssueNode(parse.GetValue(name)!, given, Validity(parse.GetValue(days)), parse.GetValue(pkcs12), parse.GetValue(force)));
            return Task.FromResult(CliRunner.Ok);
        }));
        return command;
    }

    private static Command ClientCommand()
    {
        var name = new Argument<string>("name") { Description = "Client (principal) name; the certificate's subject is CN=NAME" };
        var dir = Dir();
        var days = Days(825);
        var pkcs12 = Pkcs12();
        var force = Force();
        var command = new Command("client", "Issue a client certificate from the client CA in --dir: client-NAME.pem and client-NAME.key.")
        {
            name, dir, days, pkcs12, force,
        };
        command.SetAction(parse => CliRunner.Run(() =>
        {
            var files = new CertificateFiles(parse.GetValue(dir)!);
            Report(files.IssueClient(parse.GetValue(name)!, Validity(parse.GetValue(days)), parse.GetValue(pkcs12), parse.GetValue(force)));
            return Task.FromResult(CliRunner.Ok);
        }));
        return command;
    }

    private static TimeSpan Validity(int days) =>
        days is >= 1 and <= 36500 ? TimeSpan.FromDays(days) : throw new ArgumentException($"--days must be from 1 to 36500, got {days}");

    private static void Report(CertificateFiles.Issued issued)
    {
        Console.WriteLine($"wrote {issued.Certificate} and {issued.Key} ({issued.Subject}, valid until {issued.NotAfter.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)})");
        if (issued.Pkcs12 is not null) Console.WriteLine($"wrote {issued.Pkcs12}");
    }
}
