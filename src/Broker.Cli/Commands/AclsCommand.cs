using System.CommandLine;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Broker.Cli.Commands;

/// <summary>`broker acls add|list|remove`, like kafka-acls.sh, through a Kafka listener (<see cref="KafkaAdmin"/>).</summary>
public static class AclsCommand
{
    public static Command Create() => new("acls", "Add, list and remove ACLs (Kafka's model: principal, operation, resource, allow/deny; docs/security.md)")
    {
        AddCommand(), ListCommand(), RemoveCommand(),
    };

    private sealed class AclOptions
    {
        public readonly Option<string[]> Allow = new("--allow") { Description = "Principal(s) to allow, User:NAME or User:*", DefaultValueFactory = _ => [] };
        public readonly Option<string[]> Deny = new("--deny") { Description = "Principal(s) to deny, User:NAME or User:*", DefaultValueFactory = _ => [] };
        public readonly Option<string[]> Operation = new("--operation") { Description = "Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite or All (repeatable)", DefaultValueFactory = _ => [] };
        public readonly Option<string?> Topic = new("--topic") { Description = "A topic name, or * for every topic" };
        public readonly Option<string?> Group = new("--group") { Description = "A consumer group, or * for every group" };
        public readonly Option<bool> Cluster = new("--cluster") { Description = "The cluster itself (creating topics, admin operations)" };
        public readonly Option<bool> Prefixed = new("--prefixed") { Description = "The name is a prefix (Kafka's --resource-pattern-type prefixed)" };
        public readonly Option<string> Host = new("--host") { Description = "The client host the ACL applies to", DefaultValueFactory = _ => "*" };
        public readonly Option<string> Bootstrap = KafkaAdmin.Bootstrap();
        public readonly Option<string?> Config = KafkaAdmin.CommandConfig();
        public readonly Option<string[]> Set = KafkaAdmin.Set();

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { Allow, Deny, Operation, Topic, Group, Cluster, Prefixed, Host, Bootstrap, Config, Set }) command.Options.Add(option);
        }

        public IAdminClient Connect(ParseResult parse) => KafkaAdmin.Connect(parse.GetValue(Bootstrap)!, parse.GetValue(Config), parse.GetValue(Set)!);

        public ResourcePattern? Resource(ParseResult parse)
        {
            var pattern = parse.GetValue(Prefixed) ? ResourcePatternType.Prefixed : ResourcePatternType.Literal;
            if (parse.GetValue(Topic) is { } topic) return new ResourcePattern { Type = ResourceType.Topic, Name = topic, ResourcePatternType = pattern };
            if (parse.GetValue(Group) is { } group) return new ResourcePattern { Type = ResourceType.Group, Name = group, ResourcePatternType = pattern };
            return parse.GetValue(Cluster) ? new ResourcePattern { Type = ResourceType.Broker, Name = "kafka-cluster", ResourcePatternType = ResourcePatternType.Literal } : null;
        }

        /// <summary>Every (principal, permission, operation) the options name.</summary>
        public IEnumerable<AccessControlEntry> Entries(ParseResult parse)
        {
            var host = parse.GetValue(Host)!;
            foreach (var op in parse.GetValue(Operation)!.Select(ParseOperation))
            {
                foreach (var p in parse.GetValue(Allow)!) yield return new AccessControlEntry { Principal = p, Host = host, Operation = op, PermissionType = AclPermissionType.Allow };
                foreach (var p in parse.GetValue(Deny)!) yield return new AccessControlEntry { Principal = p, Host = host, Operation = op, PermissionType = AclPermissionType.Deny };
            }
        }
    }

    private static AclOperation ParseOperation(string name) =>
        Enum.TryParse<AclOperation>(name, ignoreCase: true, out var op) && op is not (AclOperation.Unknown or AclOperation.Any)
            ? op
            : throw new ArgumentException($"--operation {name}: not one of Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, All");

    private static Command AddCommand()
    {
        var o = new AclOptions();
        var command = new Command("add", """
            Add ACLs: each --allow/--deny principal gets each --operation on the resource.

            Example: broker acls add --allow User:alice --operation Write --operation Describe --topic orders
                     broker acls add --allow User:alice --operation Read --group billing --command-config admin.properties
            """);
        o.AddTo(command);
        command.SetAction(parse => KafkaAdmin.Run(async () =>
        {
            var resource = o.Resource(parse) ?? throw new ArgumentException("name the resource: --topic NAME, --group NAME or --cluster");
            var bindings = o.Entries(parse).Select(e => new AclBinding { Pattern = resource, Entry = e }).ToList();
            if (bindings.Count == 0) throw new ArgumentException("name at least one --allow or --deny principal and one --operation");
            using var admin = o.Connect(parse);
            await admin.CreateAclsAsync(bindings);
            foreach (var b in bindings) Console.WriteLine($"added {Describe(b)}");
            return CliRunner.Ok;
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var o = new AclOptions();
        var principal = new Option<string?>("--principal") { Description = "Only this principal's ACLs" };
        var command = new Command("list", "List ACLs, all or those of a resource or principal.\n\nExample: broker acls list --topic orders");
        o.AddTo(command);
        command.Options.Add(principal);
        command.SetAction(parse => KafkaAdmin.Run(async () =>
        {
            using var admin = o.Connect(parse);
            var resource = o.Resource(parse);
            var filter = new AclBindingFilter
            {
                PatternFilter = new ResourcePatternFilter
                {
                    Type = resource?.Type ?? ResourceType.Any, Name = resource?.Name, ResourcePatternType = resource is null ? ResourcePatternType.Any : resource.ResourcePatternType,
                },
                EntryFilter = new AccessControlEntryFilter { Principal = parse.GetValue(principal), Operation = AclOperation.Any, PermissionType = AclPermissionType.Any },
            };
            var result = await admin.DescribeAclsAsync(filter);
            CommonOptions.WriteTable(["PERMISSION", "PRINCIPAL", "OPERATION", "RESOURCE", "PATTERN", "HOST"], result.AclBindings.Select(b => (IReadOnlyList<string>)
                [b.Entry.PermissionType.ToString(), b.Entry.Principal, b.Entry.Operation.ToString(), $"{ResourceName(b.Pattern.Type)}:{b.Pattern.Name}", b.Pattern.ResourcePatternType.ToString(), b.Entry.Host]));
            return CliRunner.Ok;
        }));
        return command;
    }

    private static Command RemoveCommand()
    {
        var o = new AclOptions();
        var command = new Command("remove", "Remove the ACLs the options name (the same options as add).\n\nExample: broker acls remove --allow User:alice --operation Write --topic orders");
        o.AddTo(command);
        command.SetAction(parse => KafkaAdmin.Run(async () =>
        {
            var resource = o.Resource(parse) ?? throw new ArgumentException("name the resource: --topic NAME, --group NAME or --cluster");
            var filters = o.Entries(parse).Select(e => new AclBindingFilter
            {
                PatternFilter = new ResourcePatternFilter { Type = resource.Type, Name = resource.Name, ResourcePatternType = resource.ResourcePatternType },
                EntryFilter = new AccessControlEntryFilter { Principal = e.Principal, Host = e.Host, Operation = e.Operation, PermissionType = e.PermissionType },
            }).ToList();
            if (filters.Count == 0) throw new ArgumentException("name at least one --allow or --deny principal and one --operation");
            using var admin = o.Connect(parse);
            var results = await admin.DeleteAclsAsync(filters);
            var removed = results.SelectMany(r => r.AclBindings).ToList();
            foreach (var b in removed) Console.WriteLine($"removed {Describe(b)}");
            if (removed.Count == 0) Console.WriteLine("no ACL matched");
            return CliRunner.Ok;
        }));
        return command;
    }

    private static string ResourceName(ResourceType type) => type == ResourceType.Broker ? "Cluster" : type.ToString();

    private static string Describe(AclBinding b) =>
        $"{b.Entry.PermissionType} {b.Entry.Principal} {b.Entry.Operation} on {ResourceName(b.Pattern.Type)}:{b.Pattern.Name}{(b.Pattern.ResourcePatternType == ResourcePatternType.Prefixed ? "*" : "")}";
}
