namespace Broker.Protocol;

/// <summary>Names node and client must agree on: where the gateway lives and the assignors' protocol names.</summary>
public static class Wellknown
{
    /// <summary>The gateway's actor name, at /user/gateway on every node.</summary>
    public const string GatewayName = "gateway";

    public const string RangeAssignor = "range";
    public const string RoundRobinAssignor = "roundrobin";
    public const string StickyAssignor = "sticky";
    public const string CooperativeStickyAssignor = "cooperative-sticky";
}
