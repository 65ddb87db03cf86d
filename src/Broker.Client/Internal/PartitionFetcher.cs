using System.Threading.Channels;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;

namespace Broker.Client.Internal;

/// <summary>
/// Keeps one fetch outstanding for one assigned partition and decodes what comes back into chunks of
/// records for the consumer. Stops when cancelled (unassign or seek starts a new fetcher).
/// </summary>
internal sealed class PartitionFetcher
{
    private readonly GatewayConnection _connection;
    private readonly ConsumerConfig _config;
    private readonly TopicPartition _partition;
    private readonly ChannelWriter<FetchedChunk> _output;
    private readonly CancellationTokenSource _cancel = new();

    public PartitionFetcher(GatewayConnection connection, ConsumerConfig config, TopicPartition partition, long startOffset, int generation, ChannelWriter<FetchedChunk> output)
    {
        _connection = connection;
        _config = config;
        _partition = partition;
        _output = output;
        Generation = generation;
        _ = Task.Run(() => RunAsync(startOffset));
    }

    public int Generation { get; }

    public void Stop() => _cancel.Cancel();

    private async Task RunAsync(long offset)
    {
        var token = _cancel.Token;
        var failures = 0;
        try
        {
            offset = await ResolveAsync(offset).ConfigureAwait(false);
            while (!token.IsCancellationRequested)
            {
                FetchResponse response;
                try
                {
                    var request = new FetchRequest(_partition.Topic, _partition.Partition, offset, _config.FetchMaxBytes, _config.FetchMaxWaitMs);
                    response = await _connection.AskAsync<FetchResponse>(request, _connection.RequestTimeout + TimeSpan.FromMilliseconds(_config.FetchMaxWaitMs)).ConfigureAwait(false);
                }
                catch (BrokerException ex) when (ex.Error is ErrorCode.RequestTimedOut or ErrorCode.BrokerNotAvailable && ++failures < 10)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100 * failures), token).ConfigureAwait(false);
                    continue;
                }
                failures = 0;
                if (response.Error != ErrorCode.None)
                {
                    await _output.WriteAsync(FetchedChunk.Failed(_partition, Generation, new BrokerException(response.Error, response.ErrorMessage ?? response.Error.ToString())), token).ConfigureAwait(false);
                    return;
                }
                if (response.Records.Length == 0) continue;
                var records = Decode(response.Records, offset);
                if (records.Length == 0) continue;
                offset = records[^1].Offset + 1;
                await _output.WriteAsync(new FetchedChunk(_partition, Generation, records, null), token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (BrokerException ex)
        {
            _output.TryWrite(FetchedChunk.Failed(_partition, Generation, ex));
        }
        catch (Exception ex)
        {
            _output.TryWrite(FetchedChunk.Failed(_partition, Generation, new BrokerException(ErrorCode.Unknown, $"fetching {_partition} failed: {ex.Message}")));
        }
    }

    private async Task<long> ResolveAsync(long offset)
    {
        if (offset >= 0) return offset;
        var spec = offset == Offset.Beginning ? OffsetSpec.Earliest : OffsetSpec.Latest;
        var response = await _connection.AskAsync<ListOffsetsResponse>(new ListOffsetsRequest(_partition.Topic, _partition.Partition, spec)).ConfigureAwait(false);
        if (response.Error != ErrorCode.None) throw new BrokerException(response.Error, response.ErrorMessage ?? response.Error.ToString());
        return response.Offset;
    }

    /// <summary>Records at or after <paramref name="from"/>: a fetch starts at the batch holding it, possibly earlier.</summary>
    private ConsumeResult[] Decode(ReadOnlyMemory<byte> buffer, long from)
    {
        var count = 0;
        var position = 0;
        while (RecordBatch.TryReadNext(buffer, ref position, out _, out var header))
        {
            if (header.LastOffset >= from) count += (int)Math.Min(header.RecordCount, header.LastOffset - from + 1);
        }
        var records = new ConsumeResult[count];
        var n = 0;
        position = 0;
        while (RecordBatch.TryReadNext(buffer, ref position, out var batch, out var header))
        {
            if (header.LastOffset < from) continue;
            var reader = new RecordBatchReader(batch);
            while (reader.TryReadNext(out var record))
            {
                if (record.Offset < from) continue;
                if (n == records.Length) Array.Resize(ref records, n * 2 + 1);
                records[n++] = new ConsumeResult
                {
                    Topic = _partition.Topic,
                    Partition = _partition.Partition,
                    Offset = record.Offset,
                    Key = record.Key?.ToArray(),
                    Value = record.Value?.ToArray(),
                    Headers = record.Headers,
                    Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(record.Timestamp),
                };
            }
        }
        if (n != records.Length) Array.Resize(ref records, n);
        return records;
    }
}

/// <summary>Records fetched for one partition by one fetcher generation, or the error that stopped it.</summary>
internal sealed record FetchedChunk(TopicPartition Partition, int Generation, ConsumeResult[] Records, BrokerException? Error)
{
    public static FetchedChunk Failed(TopicPartition partition, int generation, BrokerException error) => new(partition, generation, [], error);
}
