using BenchmarkDotNet.Running;

// Micro-benchmarks of the hot paths. Run all: dotnet run -c Release --project tests/Broker.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
