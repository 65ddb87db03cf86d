using Broker.Protocol.Messages;

namespace Broker.Protocol.Serialization;

/// <summary>Reads what <see cref="GroupMessageWriter"/> wrote; throws <see cref="WireFormatException"/> on bad bytes.</summary>
internal static class GroupMessageReader
{
    // Smallest wire size of one list item, so a forged count is rejected before anything is allocated.
    private const int ProtocolMinBytes = 4 + 4;
    private const int PartitionMinBytes = 4 + 4;
    private const int CommitPartitionMinBytes = 4 + 4 + 8 + 4;
    private const int CommitResultMinBytes = 4 + 4 + 2 + 4;
    private const int MemberDescriptionMinBytes = 4 + 4 + 4;
    private const int ListingMinBytes = 4 + 4 + 4 + 4;

    /// <summary>Null if <paramref name="manifest"/> is not a group message's.</summary>
    public static IBrokerMessage? TryRead(ref WireReader r, string manifest)
    {
        switch (manifest)
        {
            case BrokerManifests.JoinGroupRequest:
            {
                var groupId = Name(ref r);
                var memberId = Text(ref r);
                var clientId = Text(ref r);
                var session = r.ReadInt32();
                var rebalance = r.ReadInt32();
                var protocolType = Text(ref r);
                var n = r.ReadCount(ProtocolMinBytes);
                var protocols = new GroupProtocol[n];
                for (var i = 0; i < n; i++) protocols[i] = new GroupProtocol(Name(ref r), Bytes(ref r));
                return new JoinGroupRequest(groupId, memberId, clientId, session, rebalance, protocolType, protocols);
            }
            case BrokerManifests.JoinGroupResponse:
            {
                var (error, message) = Error(ref r);
                var generation = r.ReadInt32();
                var protocol = Text(ref r);
                var leader = Text(ref r);
                var memberId = Text(ref r);
                var n = r.ReadCount(ProtocolMinBytes);
                var members = new JoinGroupMember[n];
                for (var i = 0; i < n; i++) members[i] = new JoinGroupMember(Text(ref r), Bytes(ref r));
                return new JoinGroupResponse(error, message, generation, protocol, leader, memberId, members);
            }
            case BrokerManifests.SyncGroupRequest:
            {
                var groupId = Name(ref r);
                var generation = r.ReadInt32();
                var memberId = Text(ref r);
                var n = r.ReadCount(ProtocolMinBytes);
                var assignments = new SyncGroupAssignment[n];
                for (var i = 0; i < n; i++) assignments[i] = new SyncGroupAssignment(Text(ref r), Bytes(ref r));
                return new SyncGroupRequest(groupId, generation, memberId, assignments);
            }
            case BrokerManifests.SyncGroupResponse:
            {
                var (error, message) = Error(ref r);
                return new SyncGroupResponse(error, message, Bytes(ref r));
            }
            case BrokerManifests.HeartbeatRequest:
                return new HeartbeatRequest(Name(ref r), r.ReadInt32(), Text(ref r));
            case BrokerManifests.HeartbeatResponse:
            {
                var (error, message) = Error(ref r);
                return new HeartbeatResponse(error, message);
            }
            case BrokerManifests.LeaveGroupRequest:
                return new LeaveGroupRequest(Name(ref r), Text(ref r));
            case BrokerManifests.LeaveGroupResponse:
            {
                var (error, message) = Error(ref r);
                return new LeaveGroupResponse(error, message);
            }
            case BrokerManifests.OffsetCommitRequest:
            case BrokerManifests.OffsetCommitRequestKeepingNegative:
            {
                var groupId = Name(ref r);
                var generation = r.ReadInt32();
                var memberId = Text(ref r);
                var n = r.ReadCount(CommitPartitionMinBytes);
                var offsets = new OffsetCommitPartition[n];
                for (var i = 0; i < n; i++) offsets[i] = new OffsetCommitPartition(Name(ref r), r.ReadInt32(), r.ReadInt64(), r.ReadString());
                var keepsNegative = manifest == BrokerManifests.OffsetCommitRequestKeepingNegative && r.ReadBool();
                return new OffsetCommitRequest(groupId, generation, memberId, offsets) { KeepsNegativeOffsets = keepsNegative };
            }
            case BrokerManifests.OffsetCommitResponse:
            {
                var (error, message) = Error(ref r);
                var n = r.ReadCount(CommitResultMinBytes);
                var results = new OffsetCommitPartitionResult[n];
                for (var i = 0; i < n; i++)
                {
                    var topic = Name(ref r);
                    var partition = r.ReadInt32();
                    var (e, m) = Error(ref r);
                    results[i] = new OffsetCommitPartitionResult(topic, partition, e, m);
                }
                return new OffsetCommitResponse(error, message, results);
            }
            case BrokerManifests.OffsetFetchRequest:
                return new OffsetFetchRequest(Name(ref r), ReadNullablePartitions(ref r));
            case BrokerManifests.OffsetFetchResponse:
            {
                var (error, message) = Error(ref r);
                return new OffsetFetchResponse(error, message, ReadCommitted(ref r));
            }
            case BrokerManifests.DescribeGroupRequest:
                return new DescribeGroupRequest(Name(ref r));
            case BrokerManifests.DeleteGroupRequest:
                return new DeleteGroupRequest(Name(ref r));
            case BrokerManifests.DeleteGroupResponse:
            {
                var (error, message) = Error(ref r);
                return new DeleteGroupResponse(error, message, Name(ref r));
            }
            case BrokerManifests.DeleteGroupOffsetsRequest:
                return new DeleteGroupOffsetsRequest(Name(ref r), ReadPartitions(ref r));
            case BrokerManifests.DeleteGroupOffsetsResponse:
            {
                var (error, message) = Error(ref r);
                var n = r.ReadCount(4 + 4 + 2);
                var results = new GroupOffsetDeletion[n];
                for (var i = 0; i < n; i++) results[i] = new GroupOffsetDeletion(Name(ref r), r.ReadInt32(), (ErrorCode)r.ReadInt16());
                return new DeleteGroupOffsetsResponse(error, message, results);
            }
            case BrokerManifests.DescribeGroupResponse:
            case BrokerManifests.DescribeGroupResponseV1:
            {
                var (error, message) = Error(ref r);
                var groupId = Text(ref r);
                var state = Text(ref r);
                var protocolType = Text(ref r);
                var protocol = Text(ref r);
                var generation = r.ReadInt32();
                var n = r.ReadCount(MemberDescriptionMinBytes);
                var members = new GroupMemberDescription[n];
                for (var i = 0; i < n; i++) members[i] = new GroupMemberDescription(Text(ref r), Text(ref r), ReadPartitions(ref r));
                var offsets = ReadCommitted(ref r);
                var type = manifest == BrokerManifests.DescribeGroupResponse ? ReadGroupType(ref r) : GroupType.Classic;
                return new DescribeGroupResponse(error, message, groupId, state, protocolType, protocol, generation, members, offsets, type);
            }
            case BrokerManifests.ListGroupsRequest:
                return new ListGroupsRequest();
            case BrokerManifests.ListGroupsResponse:
            case BrokerManifests.ListGroupsResponseV1:
            {
                var (error, message) = Error(ref r);
                var typed = manifest == BrokerManifests.ListGroupsResponse;
                var n = r.ReadCount(ListingMinBytes);
                var groups = new GroupListing[n];
                for (var i = 0; i < n; i++)
                    groups[i] = new GroupListing(Name(ref r), Text(ref r), Text(ref r), r.ReadInt32(), typed ? ReadGroupType(ref r) : GroupType.Classic);
                return new ListGroupsResponse(error, message, groups);
            }
            case BrokerManifests.ConsumerGroupHeartbeatRequest:
                return new ConsumerGroupHeartbeatRequest(Name(ref r), Text(ref r), r.ReadInt32(), Text(ref r), r.ReadInt32(),
                    ReadNullableNames(ref r), r.ReadString(), ReadNullablePartitions(ref r));
            case BrokerManifests.ConsumerGroupHeartbeatResponse:
            {
                var (error, message) = Error(ref r);
                return new ConsumerGroupHeartbeatResponse(error, message, Text(ref r), r.ReadInt32(), r.ReadInt32(), ReadNullablePartitions(ref r));
            }
            case BrokerManifests.DescribeConsumerGroupRequest:
                return new DescribeConsumerGroupRequest(Name(ref r));
            case BrokerManifests.DescribeConsumerGroupResponse:
            {
                var (error, message) = Error(ref r);
                var groupId = Text(ref r);
                var state = Text(ref r);
                var groupEpoch = r.ReadInt32();
                var assignmentEpoch = r.ReadInt32();
                var assignor = Text(ref r);
                var n = r.ReadCount(MemberDescriptionMinBytes);
                var members = new ConsumerGroupMemberDescription[n];
                for (var i = 0; i < n; i++)
                {
                    members[i] = new ConsumerGroupMemberDescription(Text(ref r), Text(ref r), r.ReadInt32(), ReadNullableNames(ref r) ?? [],
                        ReadPartitions(ref r), ReadPartitions(ref r));
                }
                return new DescribeConsumerGroupResponse(error, message, groupId, state, groupEpoch, assignmentEpoch, assignor, members);
            }
            default:
                return null;
        }
    }

    private static string[]? ReadNullableNames(ref WireReader r)
    {
        var peek = r;
        if (peek.ReadInt32() == -1)
        {
            r.ReadInt32();
            return null;
        }
        var n = r.ReadCount(4);
        var names = new string[n];
        for (var i = 0; i < n; i++) names[i] = Name(ref r);
        return names;
    }

    private static string Name(ref WireReader r) => r.ReadString() ?? throw new WireFormatException("a required name is null");

    private static string Text(ref WireReader r) => r.ReadString() ?? "";

    private static GroupType ReadGroupType(ref WireReader r)
    {
        var type = (GroupType)r.ReadByte();
        return Enum.IsDefined(type) ? type : throw new WireFormatException($"unknown group type {(byte)type}");
    }

    private static byte[] Bytes(ref WireReader r) => r.ReadBytesAsMemory().ToArray();

    // Values outside the enum pass through: a newer node may know codes this build does not.
    private static (ErrorCode, string?) Error(ref WireReader r) => ((ErrorCode)r.ReadInt16(), r.ReadString());

    internal static TopicPartition[] ReadPartitions(ref WireReader r)
    {
        var n = r.ReadCount(PartitionMinBytes);
        var partitions = new TopicPartition[n];
        for (var i = 0; i < n; i++) partitions[i] = new TopicPartition(Name(ref r), r.ReadInt32());
        return partitions;
    }

    private static TopicPartition[]? ReadNullablePartitions(ref WireReader r)
    {
        var peek = r;
        if (peek.ReadInt32() == -1)
        {
            r.ReadInt32();
            return null;
        }
        return ReadPartitions(ref r);
    }

    private static CommittedOffset[] ReadCommitted(ref WireReader r)
    {
        var n = r.ReadCount(CommitPartitionMinBytes);
        var offsets = new CommittedOffset[n];
        for (var i = 0; i < n; i++) offsets[i] = new CommittedOffset(Name(ref r), r.ReadInt32(), r.ReadInt64(), r.ReadString());
        return offsets;
    }
}
