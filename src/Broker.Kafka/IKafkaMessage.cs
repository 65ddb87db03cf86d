namespace Broker.Kafka;

/// <summary>A generated Kafka request or response body (Messages/*.g.cs): writes itself at a given version.</summary>
public interface IKafkaMessage
{
    void Write(KafkaWriter writer, short version);
}
