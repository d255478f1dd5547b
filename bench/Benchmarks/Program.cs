using BenchmarkDotNet.Running;

// BenchmarkDotNet's command line: --filter '*' --job short, --list flat, ... (see README, "Benchmarks").
BenchmarkSwitcher.FromAssembly(typeof(Seccm.Benchmarks.LtoPixel).Assembly).Run(args);
