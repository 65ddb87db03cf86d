using Akka.Actor;
using Akka.DistributedData;
using Broker.Server.Metadata;

namespace Broker.Server.Security.Authorization;

/// <summary>
/// Follows the ACL and user tables of the metadata store and hands each committed version to
/// <see cref="ClusterSecurity"/>. One state: it only listens (the quorum sends tables, Distributed Data sends Changed).
/// </summary>
internal sealed class SecurityMetadataActor : ReceiveActor
{
    private IDisposable? _acls;
    private IDisposable? _users;

    public SecurityMetadataActor(ClusterSecurity security)
    {
        Receive<AclTable>(security.Update);
        Receive<UserTable>(security.Update);
        Receive<Changed>(changed => changed.Key.Id == MetadataKeys.AclsId, changed => security.Update(changed.Get(MetadataKeys.Acls)));
        Receive<Changed>(changed => changed.Key.Id == MetadataKeys.UsersId, changed => security.Update(changed.Get(MetadataKeys.Users)));
    }

    protected override void PreStart()
    {
        var store = new MetadataStore(Context.System, TimeSpan.FromSeconds(10));
        _acls = store.Subscribe(Self, MetadataTable.Acls);
        _users = store.Subscribe(Self, MetadataTable.Users);
    }

    protected override void PostStop()
    {
        _acls?.Dispose();
        _users?.Dispose();
    }
}
