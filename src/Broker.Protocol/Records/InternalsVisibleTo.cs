// Lets the protocol tests and benchmarks reach the codec's internals (the Varint helper, the portable CRC path).
using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Broker.Protocol.Tests")]
[assembly: InternalsVisibleTo("Broker.Benchmarks")]
