// A reply (or failure) for one partition's request, queued for the consumer's thread.
namespace Broker.Client.Consuming;

internal readonly record struct FetchCompletion(PartitionFetcher Fetcher, int Generation, object? Reply, Exception? Failure);
