// A KIP-848 member's synchronous commit, as an application must write it with librdkafka; linked into the integration
// tests and kafka-perf.
using Confluent.Kafka;

namespace Broker.Tests;

internal static class StaleEpochCommit
{
    /// <summary>
    /// Commits <paramref name="result"/>. A commit that crossed a heartbeat moving the member to a newer epoch gets
    /// STALE_MEMBER_EPOCH, from Kafka as from this broker (KIP-848). The Java client commits again by itself; librdkafka
    /// hands the error to the application, so this commits again. The wait is a retry backoff: librdkafka takes the new
    /// epoch from the heartbeat response on its own thread.
    /// </summary>
    public static void Commit<TKey, TValue>(IConsumer<TKey, TValue> consumer, ConsumeResult<TKey, TValue> result)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                consumer.Commit(result);
                return;
            }
            catch (KafkaException e) when (e.Error.Code == ErrorCode.StaleMemberEpoch && attempt < 50)
            {
                Thread.Sleep(20);
            }
        }
    }
}
