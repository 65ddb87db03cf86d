using Akka.Actor;
using Broker.Server.Metadata;
using Broker.Server.Security.Sasl;

namespace Broker.Server.Security.Authorization;

/// <summary>
/// The node's view of the replicated security tables (ACLs and SASL users in the metadata store), kept current by
/// <see cref="SecurityMetadataActor"/> and read without locks by both doors on every request: the authorizer is
/// rebuilt once per ACL change, never per request. One per ActorSystem (an Akka extension).
/// </summary>
public sealed class ClusterSecurity : IExtension
{
    private volatile Authorizer _authorizer;
    private volatile UserTable _users = UserTable.Empty;

    private ClusterSecurity(AuthorizationSettings settings)
    {
        Settings = settings;
        _authorizer = Authorizer.Empty(settings.SuperUsers, settings.AllowEveryoneIfNoAclFound);
    }

    public AuthorizationSettings Settings { get; }

    /// <summary>The rules in force: the ACLs last seen committed, this node's super users.</summary>
    public Authorizer Authorizer => _authorizer;

    public UserTable Users => _users;

    internal void Update(AclTable acls) => _authorizer = new Authorizer(acls.Live(), Settings.SuperUsers, Settings.AllowEveryoneIfNoAclFound);

    internal void Update(UserTable users) => _users = users;

    /// <summary>SASL credentials: the replicated users first, then the bootstrap users from the config file (sasl.dev-users).</summary>
    public ICredentialStore Credentials(ICredentialStore bootstrap) => new ReplicatedCredentialStore(this, bootstrap);

    public static ClusterSecurity Get(ActorSystem system) => system.WithExtension<ClusterSecurity, Provider>();

    private sealed class Provider : ExtensionIdProvider<ClusterSecurity>
    {
        public override ClusterSecurity CreateExtension(ExtendedActorSystem system)
        {
            var security = new ClusterSecurity(AuthorizationSettings.Create(system.Settings.Config.GetConfig("broker.security")));
            system.SystemActorOf(Props.Create(() => new SecurityMetadataActor(security)), "security-metadata");
            return security;
        }
    }

    private sealed class ReplicatedCredentialStore(ClusterSecurity security, ICredentialStore bootstrap) : ICredentialStore
    {
        public ScramCredential? Find(string user, ScramMechanism mechanism) =>
            security._users.Find(user) is { } entry ? entry.Find(mechanism) : bootstrap.Find(user, mechanism);
    }
}
