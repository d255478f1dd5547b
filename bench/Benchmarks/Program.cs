using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// BenchmarkDotNet's command line: --filter '*' --job short, --list flat, ... (see README, "Benchmarks and the paper's
// figures"). Each run builds a generated project first; on a loaded machine that takes longer than the default 2 minutes.
var config = ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(10));
BenchmarkSwitcher.FromAssembly(typeof(Seccm.Benchmarks.LtoPixel).Assembly).Run(args, config);
