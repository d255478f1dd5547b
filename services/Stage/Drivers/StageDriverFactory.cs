namespace Seccm.Stage.Drivers;

/// <summary>Creates the driver named by <see cref="StageOptions.Driver"/>.</summary>
internal static class StageDriverFactory
{
    public static IStage Create(StageOptions options, TimeProvider time) => options.Driver switch
    {
        StageOptions.Simulated => new SimulatedStage(new SimulatedStageOptions
        {
            CoarseZUm = options.SimulatedCoarseZUm,
            PositionNoiseNmRms = options.SimulatedNoiseNmRms,
            Seed = options.SimulatedSeed,
            VelocityUmPerS = options.MoveVelocityUmPerS,
        }, time),
        StageOptions.PiGcs => PiGcsStage.Open(new PiGcsStageOptions
        {
            Port = options.Port!,
            Line = options.SerialLine(),
            AxisX = options.AxisX,
            AxisY = options.AxisY,
            AxisZ = options.AxisZ,
            AnswerTimeout = TimeSpan.FromMilliseconds(options.AnswerTimeoutMs),
        }, time),
        _ => throw new InvalidOperationException($"Stage:Driver '{options.Driver}' is unknown: use 'simulated' or 'pi-gcs'."),
    };
}
