// Entry point: pick benchmarks by class or filter, e.g. `dotnet run -c Release -- --filter '*Crc32C*'` (see README.md).
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
