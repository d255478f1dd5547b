using System.Globalization;
using System.Text;
using CsCheck;
using Seccm.Devices;
using Seccm.Devices.Modbus;
using Seccm.Devices.Serial;
using Seccm.Glovebox.Sensors;
using Seccm.Scan.Recipes;
using Seccm.Stage.Drivers;

namespace Seccm.Integration.Tests.Fuzz;

/// <summary>
/// Property tests of every parser that reads what a device or a user file sends: whatever arrives, only the documented
/// exception type escapes (DeviceException for devices, RecipeException for recipes), never an index, format or null
/// exception. MethodSCRIPT packages and the long CSV already have such properties (Potentiostat.Tests, Maps.Tests).
/// </summary>
public sealed class DeviceAnswerFuzzTests
{
    private static Gen<T> Pick<T>(params T[] items) => Gen.Int[0, items.Length - 1].Select(i => items[i]);

    private static readonly Gen<string> Printable = Gen.Char[' ', '~'].Array[0, 40].Select(c => new string(c));

    private static readonly Gen<string> Number = Gen.OneOf(
        Gen.Double.Select(d => d.ToString("R", CultureInfo.InvariantCulture)),
        Gen.Int.Select(i => i.ToString(CultureInfo.InvariantCulture)),
        Pick("NaN", "-Infinity", "1e999", "-0", "", "1,5", "0x10", "+", "."));

    /// <summary>GCS answers: mostly shaped like 'axis=value' lines, sometimes garbage, multi-line continuation marks, errors.</summary>
    private static readonly Gen<string> GcsLine = Gen.OneOf(
        Gen.Select(Pick("1", "2", "3", "4", "", "X", "1 2"), Number, (a, v) => $"{a}={v}"),
        Gen.Select(Pick("1", "2", "3"), Number, (a, v) => $"{a}={v} "),
        Number,
        Printable,
        Pick("", "=", "==", "1=", "=1", "\0", "\u00ff\u00fe"));

    [Fact]
    public async Task Pi_gcs_driver_given_any_answers_throws_only_device_exceptions()
    {
        await Gen.Select(GcsLine.Array[1, 8], Gen.Int[0, 6]).SampleAsync(async t =>
        {
            var (answers, call) = (t.Item1, t.Item2);
            var line = new ScriptedLine(answers.Select(a => Encoding.Latin1.GetBytes(a)).ToArray());
            var stage = new PiGcsStage(line, new PiGcsStageOptions { Port = "fuzz", AnswerTimeout = TimeSpan.FromMilliseconds(5), QueryRetries = 0,
                RetryDelay = TimeSpan.FromMilliseconds(1) }, TimeProvider.System);
            try
            {
                await (call switch
                {
                    0 => stage.GetPositionAsync(CancellationToken.None),
                    1 => stage.IsOnTargetAsync(CancellationToken.None),
                    2 => stage.GetVelocityAsync(StageAxis.X, CancellationToken.None),
                    3 => stage.GetLimitsAsync(CancellationToken.None),
                    4 => stage.MoveAbsoluteAsync(StageTarget.Of(StageAxis.Z, 1), CancellationToken.None),
                    5 => stage.SetVelocityAsync(StageAxis.Y, 10, CancellationToken.None),
                    _ => stage.StopAsync(CancellationToken.None),
                });
            }
            catch (DeviceException)
            {
            }
        }, iter: 400, threads: 1);
    }

    [Fact]
    public void Rapidox_teledyne_and_vaisala_lines_throw_only_device_protocol_exceptions()
    {
        var rapidox = Gen.OneOf(Gen.Select(Number, Printable, (n, rest) => $"d{n},{rest}"), Printable, Pick("d", "d,", "D1.0", ""));
        var teledyne = Gen.OneOf(Gen.Select(Number, Pick(" PPM", "PPM", " ppm", "", " %"), (n, u) => $"ST, {n}{u}, x"), Printable,
            Pick("ST", "ST,", "ST, PPM", ""));
        var vaisala = Gen.OneOf(Gen.Select(Number, Number, (a, b) => $"Tdf= {a} 'C H2O= {b} ppm"), Gen.Select(Number, n => $"Td={n}"), Printable);
        Gen.Select(rapidox, teledyne, vaisala).Sample(t =>
        {
            Accept(() => RapidoxOxygenSensor.Parse(t.Item1, "fuzz"), t.Item1);
            Accept(() => TeledyneOxygenSensor.Parse(t.Item2, "fuzz"), t.Item2);
            Accept(() => VaisalaMoistureSensor.Parse(t.Item3, "fuzz", 1013.25), t.Item3);
        }, iter: 3000);

        static void Accept(Func<object> parse, string line)
        {
            try
            {
                var value = parse();
                Assert.NotNull(value);
            }
            catch (DeviceProtocolException ex)
            {
                Assert.Contains("fuzz", ex.Message, StringComparison.Ordinal);
            }
            catch (Exception ex)
            {
                Assert.Fail($"'{line}' made the parser throw {ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    [Fact]
    public async Task Modbus_master_given_any_response_bytes_throws_only_device_exceptions()
    {
        // Valid-looking frames (right address and function, CRC appended) with random bodies, exception frames and raw noise.
        var body = Gen.Select(Gen.Byte[0, 3], Pick((byte)0x03, (byte)0x01, (byte)0x83, (byte)0x81, (byte)0x05), Gen.Byte.Array[0, 12])
            .Select((address, function, rest) => ModbusCrc.Append([address, function, .. rest]));
        var frame = Gen.OneOf(body, Gen.Byte.Array[0, 16]);
        await Gen.Select(frame, Gen.Bool).SampleAsync(async t =>
        {
            var (bytes, coils) = (t.Item1, t.Item2);
            var master = new ModbusRtuMaster(new ScriptedLine([bytes]), new ModbusRtuOptions { Retries = 0, ResponseTimeout = TimeSpan.FromMilliseconds(5),
                RetryDelay = TimeSpan.FromMilliseconds(1) });
            try
            {
                if (coils)
                {
                    Assert.Equal(4, (await master.ReadCoilsAsync(1, 0, 4, CancellationToken.None)).Length);
                }
                else
                {
                    Assert.Equal(2, (await master.ReadHoldingRegistersAsync(1, 0, 2, CancellationToken.None)).Length);
                }
            }
            catch (DeviceException)
            {
            }
        }, iter: 1500, threads: 1);
    }

    [Fact]
    public void Recipe_parse_of_mutated_yaml_throws_only_recipe_exceptions()
    {
        var assembly = typeof(RecipeLoader).Assembly;
        using var stream = assembly.GetManifestResourceStream(assembly.GetManifestResourceNames().First(n => n.EndsWith("lto-demo.yaml", StringComparison.Ordinal)))!;
        var valid = new StreamReader(stream).ReadToEnd();
        var lines = valid.Split('\n');
        var token = Gen.OneOf(Number, Printable, Pick("{", "}", "[", "]", ":", "- ", "&a", "*a", "!!binary", "~", "null", "\t", "'", "\"",
            "grid: { nx: -1, ny: 0, pitchUm: 0 }", "technique: { kind: hold }", "scanRatesVPerS: []", "<<: *a", "%YAML 9.9"));
        // Each mutation replaces, deletes or inserts at one line, or splices a token into a line.
        var mutation = Gen.Select(Gen.Int[0, 3], Gen.Int[0, lines.Length - 1], token, Gen.Int[0, 80]);
        mutation.Array[1, 6].Sample(mutations =>
        {
            var text = lines.ToList();
            foreach (var m in mutations)
            {
                var (kind, at, tok, column) = (m.Item1, m.Item2, m.Item3, m.Item4);
                var i = Math.Min(at, text.Count - 1);
                if (i < 0)
                {
                    text.Add(tok);
                    continue;
                }
                switch (kind)
                {
                    case 0: text[i] = tok; break;
                    case 1: text.RemoveAt(i); break;
                    case 2: text.Insert(i, tok); break;
                    default: text[i] = text[i].Insert(Math.Min(column, text[i].Length), tok); break;
                }
            }
            var yaml = string.Join('\n', text);
            try
            {
                var recipe = RecipeLoader.Parse(yaml, "fuzz.yaml");
                Assert.False(string.IsNullOrWhiteSpace(recipe.Name));
            }
            catch (RecipeException ex)
            {
                Assert.Contains("fuzz.yaml", ex.Message, StringComparison.Ordinal);
            }
            catch (Exception ex)
            {
                Assert.Fail($"{ex.GetType().Name} escaped RecipeLoader.Parse: {ex}{Environment.NewLine}{yaml}");
            }
        }, iter: 3000);
    }

    /// <summary>A serial line that answers every read from a script, then times out like a silent device.</summary>
    private sealed class ScriptedLine(byte[][] answers) : ISerialLine
    {
        private readonly Queue<byte> _bytes = new(answers.SelectMany(a => a));
        private readonly Queue<string> _lines = new(answers.Select(a => Encoding.Latin1.GetString(a)));

        public string Name => "fuzz";

        public ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WriteLineAsync(string line, string terminator, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask<string> ReadLineAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
            _lines.TryDequeue(out var line) ? ValueTask.FromResult(line) : throw new DeviceTimeoutException("fuzz: no answer");

        public ValueTask<byte[]> ReadBytesAsync(int count, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (_bytes.Count < count)
            {
                _bytes.Clear();
                throw new DeviceTimeoutException($"fuzz: {count} bytes expected");
            }
            var result = new byte[count];
            for (var i = 0; i < count; i++)
            {
                result[i] = _bytes.Dequeue();
            }
            return ValueTask.FromResult(result);
        }

        public void DiscardInput()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
