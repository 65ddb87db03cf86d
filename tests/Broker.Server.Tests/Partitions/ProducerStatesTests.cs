using Broker.Protocol.Records;
using Broker.Server.Partitions;
using Xunit;

namespace Broker.Server.Tests.Partitions;

/// <summary>The sequence rules of idempotent producers, as Kafka's ProducerStateManager applies them.</summary>
public sealed class ProducerStatesTests
{
    private static RecordBatchHeader Batch(long producerId, short epoch, int firstSeq, int records = 1, long timestamp = 1000) => new()
    {
        ProducerId = producerId,
        ProducerEpoch = epoch,
        BaseSequence = firstSeq,
        RecordCount = records,
        LastOffsetDelta = records - 1,
        MaxTimestamp = timestamp,
    };

    [Fact]
    public void A_batch_without_a_producer_id_is_always_appended()
    {
        var states = new ProducerStates();
        var plain = Batch(-1, -1, -1);
        states.Record(plain, 0);
        Assert.Equal(SequenceCheck.Append, states.Check(plain, out _));
        Assert.Equal(0, states.Count);
    }

    [Fact]
    public void The_next_sequence_is_appended_and_a_repeat_is_a_duplicate_with_its_first_offsets()
    {
        var states = new ProducerStates();
        states.Record(Batch(7, 0, 0, records: 3), baseOffset: 100);
        Assert.Equal(SequenceCheck.Append, states.Check(Batch(7, 0, 3, records: 2), out _));
        states.Record(Batch(7, 0, 3, records: 2), baseOffset: 200);

        Assert.Equal(SequenceCheck.Duplicate, states.Check(Batch(7, 0, 0, records: 3), out var first));
        Assert.Equal(new ProducerBatch(0, 2, 100, 102), first);
        Assert.Equal(SequenceCheck.Duplicate, states.Check(Batch(7, 0, 3, records: 2), out first));
        Assert.Equal(200, first.BaseOffset);
    }

    [Fact]
    public void A_gap_or_a_rewind_is_out_of_order()
    {
        var states = new ProducerStates();
        states.Record(Batch(7, 0, 0, records: 3), 0);
        Assert.Equal(SequenceCheck.OutOfOrder, states.Check(Batch(7, 0, 4), out _));
        Assert.Equal(SequenceCheck.OutOfOrder, states.Check(Batch(7, 0, 1), out _)); // overlaps, but is not the same batch
    }

    [Fact]
    public void An_older_epoch_is_stale_and_a_newer_one_must_start_at_zero()
    {
        var states = new ProducerStates();
        states.Record(Batch(7, 2, 0, records: 5), 0);
        Assert.Equal(SequenceCheck.StaleEpoch, states.Check(Batch(7, 1, 5), out _));
        Assert.Equal(SequenceCheck.OutOfOrder, states.Check(Batch(7, 3, 5), out _));
        Assert.Equal(SequenceCheck.Append, states.Check(Batch(7, 3, 0), out _));

        states.Record(Batch(7, 3, 0), 5);
        // The bump forgot the old epoch's batches: its retry is now stale, not a duplicate.
        Assert.Equal(SequenceCheck.StaleEpoch, states.Check(Batch(7, 2, 0, records: 5), out _));
    }

    [Fact]
    public void An_unknown_producer_may_start_at_any_sequence_but_must_have_one()
    {
        var states = new ProducerStates();
        Assert.Equal(SequenceCheck.Append, states.Check(Batch(9, 0, 42), out _));
        Assert.Equal(SequenceCheck.NoSequence, states.Check(Batch(9, 0, -1), out _));
    }

    [Fact]
    public void Only_the_last_five_batches_are_remembered()
    {
        var states = new ProducerStates();
        for (var i = 0; i < 6; i++) states.Record(Batch(7, 0, i), i);
        Assert.Equal(SequenceCheck.OutOfOrder, states.Check(Batch(7, 0, 0), out _));
        for (var i = 1; i < 6; i++) Assert.Equal(SequenceCheck.Duplicate, states.Check(Batch(7, 0, i), out _));
    }

    [Fact]
    public void Recording_the_same_batch_again_changes_nothing()
    {
        // The leader records a batch when it assigns offsets and again when the journal write lands.
        var states = new ProducerStates();
        states.Record(Batch(7, 0, 0), 10);
        states.Record(Batch(7, 0, 1), 11);
        states.Record(Batch(7, 0, 0), 10);
        Assert.Equal(SequenceCheck.Append, states.Check(Batch(7, 0, 2), out _));
        Assert.Single(states.ToSnapshot(logEnd: 100));
        Assert.Equal(2, states.ToSnapshot(logEnd: 100)[0].Batches.Length);
    }

    [Fact]
    public void Sequences_wrap_from_int_max_to_zero()
    {
        Assert.Equal(1, ProducerStates.LastSequence(int.MaxValue, 3));
        var states = new ProducerStates();
        states.Record(Batch(7, 0, int.MaxValue - 1, records: 2), 0);
        Assert.Equal(SequenceCheck.Append, states.Check(Batch(7, 0, 0), out _));
    }

    [Fact]
    public void Truncation_forgets_the_batches_it_removed_and_producers_left_with_none()
    {
        var states = new ProducerStates();
        states.Record(Batch(7, 0, 0, records: 2), 0);
        states.Record(Batch(7, 0, 2, records: 2), 2);
        states.Record(Batch(8, 0, 0), 4);
        states.TruncateFrom(2);
        // Producer 7's second batch is gone, so sending it again is not a duplicate: it is the next one.
        Assert.Equal(SequenceCheck.Append, states.Check(Batch(7, 0, 2, records: 2), out _));
        Assert.Equal(1, states.Count);
    }

    [Fact]
    public void A_snapshot_leaves_out_batches_still_being_written_and_restores_the_rest()
    {
        var states = new ProducerStates();
        states.Record(Batch(7, 1, 0), 0);
        states.Record(Batch(7, 1, 1), 1); // assigned, not yet in the journal: the log ends at 1
        var restored = new ProducerStates();
        restored.Restore(states.ToSnapshot(logEnd: 1));
        Assert.Equal(SequenceCheck.Duplicate, restored.Check(Batch(7, 1, 0), out _));
        Assert.Equal(SequenceCheck.Append, restored.Check(Batch(7, 1, 1), out _));
        Assert.Equal(SequenceCheck.StaleEpoch, restored.Check(Batch(7, 0, 2), out _));
    }

    [Fact]
    public void Producers_idle_past_the_expiration_are_forgotten()
    {
        var states = new ProducerStates();
        states.Record(Batch(7, 0, 0, timestamp: 1_000), 0);
        states.Record(Batch(8, 0, 0, timestamp: 9_000), 1);
        Assert.Equal(1, states.ExpireOlderThan(5_000));
        Assert.Equal(SequenceCheck.Append, states.Check(Batch(7, 0, 12), out _)); // unknown again: any sequence
        Assert.Equal(SequenceCheck.OutOfOrder, states.Check(Batch(8, 0, 12), out _));
    }
}
