using Broker.Protocol;
using Broker.Server.Kafka;
using Xunit;

namespace Broker.Server.Tests.Kafka;

/// <summary>Kafka clients decide what to retry from the error number: every typed error the broker has must have one.</summary>
public sealed class KafkaErrorsTests
{
    public static TheoryData<ErrorCode> ServerErrors()
    {
        var data = new TheoryData<ErrorCode>();
        foreach (var code in Enum.GetValues<ErrorCode>())
        {
            // Unknown is Kafka's UNKNOWN_SERVER_ERROR by definition; NoOffsetForPartition never leaves a client.
            if (code is not (ErrorCode.None or ErrorCode.Unknown or ErrorCode.NoOffsetForPartition)) data.Add(code);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ServerErrors))]
    public void Every_broker_error_has_its_own_Kafka_error_code(ErrorCode code)
    {
        var kafka = KafkaErrors.From(code);
        Assert.NotEqual(KafkaErrors.UnknownServerError, kafka);
        Assert.NotEqual(KafkaErrors.None, kafka);
    }

    [Fact]
    public void Retriable_errors_map_to_Kafka_retriable_codes()
    {
        Assert.Equal(6, KafkaErrors.From(ErrorCode.NotLeader)); // NOT_LEADER_OR_FOLLOWER
        Assert.Equal(5, KafkaErrors.From(ErrorCode.LeaderNotAvailable));
        Assert.Equal(3, KafkaErrors.From(ErrorCode.UnknownTopic)); // UNKNOWN_TOPIC_OR_PARTITION
        Assert.Equal(19, KafkaErrors.From(ErrorCode.NotEnoughReplicas));
        Assert.Equal(27, KafkaErrors.From(ErrorCode.RebalanceInProgress));
        Assert.Equal(0, KafkaErrors.From(ErrorCode.None));
    }
}
