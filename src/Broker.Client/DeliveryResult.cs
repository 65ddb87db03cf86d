// Where a produced record landed.
namespace Broker.Client;

/// <summary>Where a record was stored. <see cref="Offset"/> is -1 with <see cref="Acks.None"/>, which never learns it.</summary>
public sealed record DeliveryResult(string Topic, int Partition, long Offset);
