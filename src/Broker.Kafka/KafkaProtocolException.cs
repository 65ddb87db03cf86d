namespace Broker.Kafka;

/// <summary>Bytes that are not a valid Kafka message: the connection that sent them is closed, nothing else is affected.</summary>
public sealed class KafkaProtocolException : Exception
{
    public KafkaProtocolException(string message) : base(message)
    {
    }

    public KafkaProtocolException(string message, Exception inner) : base(message, inner)
    {
    }

    public KafkaProtocolException()
    {
    }
}
