using System.CommandLine;
using System.Security.Cryptography;
using Confluent.Kafka.Admin;

namespace Broker.Cli.Commands;

/// <summary>
/// `broker users add|list|remove`, like kafka-configs.sh --alter --add-config SCRAM-SHA-512=[password=...]: SCRAM
/// credentials in the cluster's metadata, through a Kafka listener (<see cref="KafkaAdmin"/>). The password is salted
/// and hashed here; only the salted password travels (AlterUserScramCredentials), and the nodes keep StoredKey and ServerKey.
/// </summary>
public static class UsersCommand
{
    public static Command Create() => new("users", "Add, list and remove SASL/SCRAM users (docs/security.md)")
    {
        AddCommand(), ListCommand(), RemoveCommand(),
    };

    private static Option<string[]> Mechanisms() => new("--mechanism")
    {
        Description = "SCRAM-SHA-512 and/or SCRAM-SHA-256 (repeatable; default both)",
        DefaultValueFactory = _ => ["SCRAM-SHA-512", "SCRAM-SHA-256"],
    };

    private static ScramMechanism Parse(string name) => name.ToUpperInvariant() switch
    {
        "SCRAM-SHA-512" => ScramMechanism.ScramSha512,
        "SCRAM-SHA-256" => ScramMechanism.ScramSha256,
        _ => throw new ArgumentException($"--mechanism {name}: use SCRAM-SHA-512 or SCRAM-SHA-256"),
    };

    private static Command AddCommand()
    {
        var user = new Argument<string>("user") { Description = "User name (the principal is User:NAME)" };
        var password = new Option<string?>("--password") { Description = "The password (env BROKER_USER_PASSWORD; prefer it: a flag shows in the process list)" };
        var iterations = new Option<int>("--iterations") { Description = "PBKDF2 iterations, at least 4096", DefaultValueFactory = _ => 8192 };
        var mechanisms = Mechanisms();
        var (bootstrap, config, set) = (KafkaAdmin.Bootstrap(), KafkaAdmin.CommandConfig(), KafkaAdmin.Set());
        var command = new Command("add", """
            Add a user, or change their password.

            Example: BROKER_USER_PASSWORD=alice-secret broker users add alice --command-config admin.properties
            """)
        {
            user, password, iterations, mechanisms, bootstrap, config, set,
        };
        command.SetAction(parse => KafkaAdmin.Run(async () =>
        {
            var secret = parse.GetValue(password) ?? Environment.GetEnvironmentVariable("BROKER_USER_PASSWORD")
                ?? throw new ArgumentException("give the password with BROKER_USER_PASSWORD (or --password)");
            var name = parse.GetValue(user)!;
            var upserts = parse.GetValue(mechanisms)!.Select(m => (UserScramCredentialAlteration)new UserScramCredentialUpsertion
            {
                User = name,
                ScramCredentialInfo = new ScramCredentialInfo { Mechanism = Parse(m), Iterations = parse.GetValue(iterations) },
                Password = System.Text.Encoding.UTF8.GetBytes(secret),
                Salt = RandomNumberGenerator.GetBytes(32),
            }).ToList();
            using var admin = KafkaAdmin.Connect(parse.GetValue(bootstrap)!, parse.GetValue(config), parse.GetValue(set)!);
            await admin.AlterUserScramCredentialsAsync(upserts);
            Console.WriteLine($"user {name}: {string.Join(", ", parse.GetValue(mechanisms)!)} set");
            return CliRunner.Ok;
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var (bootstrap, config, set) = (KafkaAdmin.Bootstrap(), KafkaAdmin.CommandConfig(), KafkaAdmin.Set());
        var command = new Command("list", "List users and their SCRAM mechanisms (never a secret).") { bootstrap, config, set };
        command.SetAction(parse => KafkaAdmin.Run(async () =>
        {
            using var admin = KafkaAdmin.Connect(parse.GetValue(bootstrap)!, parse.GetValue(config), parse.GetValue(set)!);
            var result = await admin.DescribeUserScramCredentialsAsync([]);
            CommonOptions.WriteTable(["USER", "MECHANISMS"], result.UserScramCredentialsDescriptions.Select(d => (IReadOnlyList<string>)
                [d.User, string.Join(", ", d.ScramCredentialInfos.Select(i => $"{(i.Mechanism == ScramMechanism.ScramSha512 ? "SCRAM-SHA-512" : "SCRAM-SHA-256")} ({i.Iterations} iterations)"))]));
            return CliRunner.Ok;
        }));
        return command;
    }

    private static Command RemoveCommand()
    {
        var user = new Argument<string>("user") { Description = "User name" };
        var mechanisms = Mechanisms();
        var (bootstrap, config, set) = (KafkaAdmin.Bootstrap(), KafkaAdmin.CommandConfig(), KafkaAdmin.Set());
        var command = new Command("remove", "Remove a user's credentials (all by default); their ACLs stay.\n\nExample: broker users remove alice")
        {
            user, mechanisms, bootstrap, config, set,
        };
        command.SetAction(parse => KafkaAdmin.Run(async () =>
        {
            var name = parse.GetValue(user)!;
            using var admin = KafkaAdmin.Connect(parse.GetValue(bootstrap)!, parse.GetValue(config), parse.GetValue(set)!);
            await admin.AlterUserScramCredentialsAsync(parse.GetValue(mechanisms)!
                .Select(m => (UserScramCredentialAlteration)new UserScramCredentialDeletion { User = name, Mechanism = Parse(m) }).ToList());
            Console.WriteLine($"user {name}: removed");
            return CliRunner.Ok;
        }));
        return command;
    }
}
