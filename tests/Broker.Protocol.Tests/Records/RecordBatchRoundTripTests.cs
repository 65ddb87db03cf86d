// Builder -> reader round trips: nulls versus empties, headers, timestamps, offsets, reuse and sizes.
using System.Text;
using Broker.Protocol.Records;
using Xunit;
using Record = Broker.Protocol.Records.Record;

namespace Broker.Protocol.Tests.Records;

public class RecordBatchRoundTripTests
{
    [Fact]
    public void Null_and_empty_keys_and_values_stay_distinct()
    {
        var builder = new RecordBatchBuilder();
        builder.Append(1, null, null);
        builder.Append(2, [], []);
        builder.Append(3, [1, 2, 3], null);
        builder.Append(4, null, [4, 5]);

        var records = ReadAll(builder.Build());

        Assert.Equal(4, records.Count);
        Assert.Null(records[0].Key);
        Assert.Null(records[0].Value);
        Assert.Equal(0, records[1].Key!.Value.Length);
        Assert.Equal(0, records[1].Value!.Value.Length);
        Assert.Equal(new byte[] { 1, 2, 3 }, records[2].Key!.Value.ToArray());
        Assert.Null(records[2].Value);
        Assert.Null(records[3].Key);
        Assert.Equal(new byte[] { 4, 5 }, records[3].Value!.Value.ToArray());
    }

    [Fact]
    public void Span_overload_encodes_null_flags()
    {
        var builder = new RecordBatchBuilder();
        builder.Append(7, "ignored"u8, keyIsNull: true, "v"u8, valueIsNull: false);
        builder.Append(7, ReadOnlySpan<byte>.Empty, keyIsNull: false, ReadOnlySpan<byte>.Empty, valueIsNull: true);

        var records = ReadAll(builder.Build());

        Assert.Null(records[0].Key);
        Assert.Equal("v"u8.ToArray(), records[0].Value!.Value.ToArray());
        Assert.Equal(0, records[1].Key!.Value.Length);
        Assert.Null(records[1].Value);
    }

    [Fact]
    public void Headers_round_trip_with_utf8_keys_null_and_binary_values()
    {
        byte[] binary = [0x00, 0xFF, 0x80, 0x7F];
        RecordHeader[] headers =
        [
            new("trace-id", "abc"u8.ToArray()),
            new("\u65e5\u672c", binary),
            new("nothing", null),
            new("", Array.Empty<byte>()),
        ];
        var builder = new RecordBatchBuilder();
        builder.Append(1, "k"u8.ToArray(), "v"u8.ToArray(), headers);

        var read = Assert.Single(ReadAll(builder.Build())).Headers;

        Assert.Equal(4, read.Count);
        Assert.Equal("trace-id", read[0].Key);
        Assert.Equal("abc"u8.ToArray(), read[0].Value!.Value.ToArray());
        Assert.Equal("\u65e5\u672c", read[1].Key);
        Assert.Equal(binary, read[1].Value!.Value.ToArray());
        Assert.Equal("nothing", read[2].Key);
        Assert.Null(read[2].Value);
        Assert.Equal("", read[3].Key);
        Assert.Equal(0, read[3].Value!.Value.Length);
    }

    [Fact]
    public void Records_without_headers_share_one_empty_list()
    {
        var records = ReadAll(BatchSamples.Batch(2));

        Assert.Empty(records[0].Headers);
        Assert.Same(records[0].Headers, records[1].Headers);
        Assert.Empty(default(Record).Headers);
    }

    [Fact]
    public void Timestamps_round_trip_including_out_of_order_and_large_gaps()
    {
        long[] timestamps = [1_700_000_000_000, 1_699_999_999_000, 1_700_000_000_001, 4_102_444_800_000, 0];
        var builder = new RecordBatchBuilder();
        foreach (var t in timestamps) builder.Append(t, null, "v"u8.ToArray());

        var bytes = builder.Build();
        var records = ReadAll(bytes);

        Assert.Equal(timestamps, records.Select(r => r.Timestamp).ToArray());
        Assert.True(RecordBatch.TryReadHeader(bytes, out var header));
        Assert.Equal(timestamps[0], header.FirstTimestamp);
        Assert.Equal(4_102_444_800_000, header.MaxTimestamp);
    }

    [Fact]
    public void Offsets_are_base_offset_plus_position()
    {
        var bytes = BatchSamples.Batch(5, baseOffset: 1000);

        var records = ReadAll(bytes);

        Assert.Equal(new long[] { 1000, 1001, 1002, 1003, 1004 }, records.Select(r => r.Offset).ToArray());
        Assert.True(RecordBatch.TryReadHeader(bytes, out var header));
        Assert.Equal(1004, header.LastOffset);
        Assert.Equal(4, header.LastOffsetDelta);
        Assert.Equal(5, header.RecordCount);
    }

    [Fact]
    public void Build_writes_kafka_producer_defaults()
    {
        var bytes = BatchSamples.Batch(1);

        Assert.Equal(BatchValidation.Valid, RecordBatch.Validate(bytes, out var header));
        Assert.Equal(0, header.Attributes);
        Assert.Equal(0, header.PartitionLeaderEpoch);
        Assert.Equal(2, header.Magic);
        Assert.Equal(-1L, header.ProducerId);
        Assert.Equal((short)-1, header.ProducerEpoch);
        Assert.Equal(-1, header.BaseSequence);
    }

    [Fact]
    public void Key_and_value_are_slices_of_the_batch_not_copies()
    {
        var bytes = BatchSamples.Batch(1);
        var reader = new RecordBatchReader(bytes);
        Assert.True(reader.TryReadNext(out var record));

        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(record.Value!.Value, out var segment));
        Assert.Same(bytes, segment.Array);
    }

    [Fact]
    public void SizeInBytes_is_exact_after_every_append()
    {
        var builder = new RecordBatchBuilder(64);
        Assert.Equal(RecordBatch.HeaderSize, builder.SizeInBytes);
        var random = new Random(3);
        for (var i = 0; i < 200; i++)
        {
            var value = new byte[random.Next(0, 300)];
            builder.Append(BatchSamples.Timestamp + random.Next(-100_000, 100_000), i % 3 == 0 ? null : [(byte)i], value,
                i % 5 == 0 ? [new RecordHeader("h", value)] : null);
            Assert.Equal(builder.SizeInBytes, builder.Build().Length);
        }
        Assert.Equal(200, builder.Count);
    }

    [Fact]
    public void Estimate_is_an_upper_bound_of_the_bytes_a_record_adds()
    {
        var random = new Random(5);
        var builder = new RecordBatchBuilder();
        for (var i = 0; i < 200; i++)
        {
            var key = i % 4 == 0 ? null : new byte[random.Next(0, 40)];
            var value = i % 7 == 0 ? null : new byte[random.Next(0, 5000)];
            RecordHeader[]? headers = i % 3 == 0 ? [new RecordHeader("h\u00e9", key), new RecordHeader("x", null)] : null;
            var before = builder.SizeInBytes;
            builder.Append(long.MaxValue / 2 * (i % 2 == 0 ? 1 : -1), key, value, headers);

            var estimate = RecordBatchBuilder.EstimateRecordSize(key?.Length ?? -1, value?.Length ?? -1, headers);
            Assert.InRange(builder.SizeInBytes - before, 1, estimate);
        }
    }

    [Fact]
    public void Builder_grows_past_its_initial_capacity()
    {
        var builder = new RecordBatchBuilder(initialCapacity: 16);
        var big = new byte[100_000];
        new Random(9).NextBytes(big);
        builder.Append(1, null, big);
        builder.Append(2, null, big);

        var records = ReadAll(builder.Build());

        Assert.Equal(2, records.Count);
        Assert.Equal(big, records[1].Value!.Value.ToArray());
    }

    [Fact]
    public void Reset_starts_a_fresh_batch_with_new_first_timestamp_and_offsets()
    {
        var builder = new RecordBatchBuilder();
        builder.Append(100, null, "a"u8.ToArray());
        builder.Append(900, null, "b"u8.ToArray());
        builder.Build();
        builder.Reset();

        Assert.Equal(0, builder.Count);
        Assert.Equal(RecordBatch.HeaderSize, builder.SizeInBytes);
        builder.Append(50, null, "c"u8.ToArray());
        var bytes = builder.Build(baseOffset: 7);

        Assert.Equal(BatchValidation.Valid, RecordBatch.Validate(bytes, out var header));
        Assert.Equal(1, header.RecordCount);
        Assert.Equal(50, header.FirstTimestamp);
        Assert.Equal(50, header.MaxTimestamp);
        var record = Assert.Single(ReadAll(bytes));
        Assert.Equal(7, record.Offset);
        Assert.Equal("c", Encoding.ASCII.GetString(record.Value!.Value.Span));
    }

    [Fact]
    public void Rebuilding_the_same_records_after_Reset_gives_identical_bytes()
    {
        var builder = new RecordBatchBuilder(16);
        builder.Append(1, "k"u8.ToArray(), new byte[50], [new RecordHeader("h", null)]);
        var first = builder.Build();
        builder.Reset();
        builder.Append(1, "k"u8.ToArray(), new byte[50], [new RecordHeader("h", null)]);

        Assert.Equal(first, builder.Build());
    }

    [Fact]
    public void BuildInto_writes_the_same_bytes_as_Build()
    {
        var builder = new RecordBatchBuilder();
        builder.Append(1, "k"u8.ToArray(), "v"u8.ToArray());
        var destination = new byte[builder.SizeInBytes + 10];

        var written = builder.BuildInto(destination, baseOffset: 42);

        Assert.Equal(builder.SizeInBytes, written);
        Assert.Equal(builder.Build(42), destination[..written]);
    }

    [Fact]
    public void BuildInPlace_gives_the_same_bytes_as_Build_in_the_builders_buffer()
    {
        var builder = new RecordBatchBuilder();
        builder.Append(1, "k"u8.ToArray(), "v"u8.ToArray());
        builder.Append(2, null, "w"u8.ToArray());

        var inPlace = builder.BuildInPlace(baseOffset: 7);
        var first = inPlace.ToArray();
        var second = builder.BuildInPlace(baseOffset: 7);

        Assert.Equal(builder.Build(7), first);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(inPlace, out var a));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(second, out var b));
        Assert.Same(a.Array, b.Array);
        Assert.Equal(2, ReadAll(first).Count);
    }

    [Fact]
    public void BuildInto_a_too_small_destination_throws_ArgumentException()
    {
        var builder = new RecordBatchBuilder();
        builder.Append(1, "k"u8.ToArray(), "v"u8.ToArray());

        Assert.Throws<ArgumentException>(() => builder.BuildInto(new byte[builder.SizeInBytes - 1]));
    }

    [Fact]
    public void Build_of_an_empty_builder_throws()
    {
        Assert.Throws<InvalidOperationException>(() => new RecordBatchBuilder().Build());
    }

    [Fact]
    public void Appending_does_not_allocate_per_record_once_the_buffer_is_large_enough()
    {
        var builder = new RecordBatchBuilder(1 << 20);
        var key = new byte[16];
        var value = new byte[100];
        builder.Append(0, key, value); // warm up (JIT, static tables)
        builder.Reset();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++) builder.Append(i, key, false, value, false);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    internal static List<Record> ReadAll(byte[] batch)
    {
        var reader = new RecordBatchReader(batch);
        var records = new List<Record>();
        while (reader.TryReadNext(out var record)) records.Add(record);
        Assert.Equal(reader.Header.RecordCount, records.Count);
        return records;
    }
}
