using System.Collections.Concurrent;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;
using Seccm.Contracts.Glovebox;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Stage;
using Seccm.Contracts.Topics;
using Seccm.Integration.Tests.Faults;
using Seccm.TestSupport;
using Xunit.Abstractions;

namespace Seccm.Integration.Tests.Security;

/// <summary>
/// A facility of two instruments, A and B, on one real mosquitto with the users, passwords and ACL that
/// deploy/mosquitto/facility.sh generates: A's services and operator reach nothing of B (the broker refuses, and tells the
/// MQTT 5 publisher so in its PUBACK), B scans undisturbed while A's operator tries, the display reads both, a facility
/// operator commands both, and removing an instrument revokes its users without touching the others'.
/// </summary>
public sealed class FacilityAclTests(ITestOutputHelper output)
{
    private const string A = "fac-a";
    private const string B = "fac-b";
    private const string Alice = "alice";
    private const string Bob = "bob";
    private const string Carol = "carol";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>Every kind of topic of instrument <paramref name="i"/>: what someone could forge or command.</summary>
    private static string[] TopicsOf(string i) =>
    [
        .. ServiceNames.All.Select(s => Topic.Status(i, s)),
        .. ServiceNames.All.Select(s => Topic.Telemetry(i, s, "forged")),
        .. ServiceNames.All.Select(s => Topic.Event(i, s, "forged")),
        Topic.Command(i, ServiceNames.Stage, StageTopics.MoveVerb),
        Topic.Command(i, ServiceNames.Stage, StageTopics.ApproachVerb),
        Topic.Command(i, ServiceNames.Potentiostat, PotentiostatTopics.CvVerb),
        Topic.Command(i, ServiceNames.Potentiostat, PotentiostatTopics.ReplayVerb),
        Topic.Command(i, ServiceNames.Glovebox, GloveboxTopics.PumpVerb),
        Topic.Command(i, ServiceNames.Scan, "abort"),
        Topic.Command(i, ServiceNames.Scan, ScanTopics.PixelsVerb),
        Topic.Command(i, ServiceNames.Diffusion, "export"),
        Topic.Reply(i, ServiceNames.Scan, "forged"),
        Topic.Reply(i, ServiceNames.Cli, "forged"),
        Topic.Reply(i, ServiceNames.Diffusion, "forged"),
        Topic.Status(i, ServiceNames.Cli),
        Topic.Data(i, "s1", "chunk"),
        Topic.Result(i, "s1", "pixel") + "/0",
    ];

    [Fact]
    public async Task Instrument_A_users_publish_nothing_into_B_and_learn_they_were_refused()
    {
        await using var broker = await FacilityAsync();
        var seen = await DisplayAsync(broker, "seccm/#");
        var intruders = ServiceNames.All.Select(s => SecuredBroker.User(s, A)).Append(Alice).Append(SecuredBroker.Display).ToList();
        var refused = 0;
        foreach (var user in intruders)
        {
            foreach (var topic in TopicsOf(B))
            {
                var code = await PublishOnceAsync(broker, user, topic, $"{user} -> {topic}");
                output.WriteLine($"MATRIX | {user} | {topic} | denied expected | PUBACK {code}");
                Assert.True(code == MqttClientPublishReasonCode.NotAuthorized,
                    $"{user} publishing {topic}: PUBACK {code}, expected NotAuthorized; mosquitto said: {broker.Server.Output}");
                refused++;
            }
            // A control after the refused ones, acknowledged before it was sent: had any of those been forwarded, the
            // display would have it before this (mosquitto forwards in the order it handles messages).
            if (OwnAllowedTopic(user) is { } own)
            {
                var code = await PublishOnceAsync(broker, user, own, $"control {user}");
                output.WriteLine($"MATRIX | {user} | {own} | allowed expected | PUBACK {code}");
                Assert.Equal(MqttClientPublishReasonCode.Success, code);
                await Eventually.TrueAsync(() => seen.Contains($"{own}=control {user}"), $"{user}'s control on {own}", Patience);
            }
        }
        Assert.Equal(intruders.Count * TopicsOf(B).Length, refused);
        var leaked = seen.Where(m => m.StartsWith($"seccm/{B}/", StringComparison.Ordinal)).ToList();
        Assert.True(leaked.Count == 0, $"delivered into {B}: {string.Join("; ", leaked)}");
    }

    [Fact]
    public async Task Instrument_A_users_read_nothing_of_B_and_the_display_reads_both()
    {
        await using var broker = await FacilityAsync();
        var display = await DisplayAsync(broker, "seccm/#");
        var readers = new Dictionary<string, (IMqttClient Client, ConcurrentQueue<string> Got)>();
        foreach (var user in ServiceNames.All.Select(s => SecuredBroker.User(s, A)).Append(Alice))
        {
            var client = await ConnectAsync(broker, user);
            var got = new ConcurrentQueue<string>();
            client.ApplicationMessageReceivedAsync += e =>
            {
                got.Enqueue(e.ApplicationMessage.Topic);
                return Task.CompletedTask;
            };
            // mosquitto 2.0 grants a subscription to any filter and checks each message against the ACL on delivery.
            foreach (var filter in new[] { $"seccm/{B}/#", Topic.StatusFilter(B), Topic.CommandFilter(B, ServiceNames.Stage), "seccm/#", Topic.StatusFilter(A) })
            {
                var sub = await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
                output.WriteLine($"MATRIX | {user} | subscribe {filter} | SUBACK {sub.Items.Single().ResultCode}");
            }
            readers[user] = (client, got);
        }

        // B's stage publishes its status, then A's stage its own: every reader of A gets A's, and would have had B's first.
        foreach (var i in new[] { B, A })
        {
            Assert.Equal(MqttClientPublishReasonCode.Success,
                await PublishOnceAsync(broker, SecuredBroker.User(ServiceNames.Stage, i), Topic.Status(i, ServiceNames.Stage), $"online {i}"));
        }
        await Eventually.TrueAsync(() => display.Contains($"{Topic.Status(A, ServiceNames.Stage)}=online {A}")
            && display.Contains($"{Topic.Status(B, ServiceNames.Stage)}=online {B}"), "the display reads both instruments' statuses", Patience);
        output.WriteLine($"MATRIX | display | read {Topic.Status(A, ServiceNames.Stage)} and {Topic.Status(B, ServiceNames.Stage)} | allowed expected | both delivered");
        foreach (var (user, (client, got)) in readers)
        {
            await Eventually.TrueAsync(() => got.Contains(Topic.Status(A, ServiceNames.Stage)), $"{user} reads its own instrument's status", Patience);
            output.WriteLine($"MATRIX | {user} | read {Topic.Status(B, ServiceNames.Stage)} | denied expected | {(got.Any(t => t.StartsWith($"seccm/{B}/", StringComparison.Ordinal)) ? "DELIVERED" : "not delivered")}");
            Assert.DoesNotContain(got, t => t.StartsWith($"seccm/{B}/", StringComparison.Ordinal));
            client.Dispose();
        }
    }

    [Fact]
    public async Task Operators_command_exactly_the_instruments_granted_and_a_facility_operator_commands_every_one()
    {
        await using var broker = await FacilityAsync();
        var seen = await DisplayAsync(broker, "seccm/+/+/cmd/#");
        var cases = new (string User, string Instrument, bool Allowed)[]
        {
            (Alice, A, true), (Alice, B, false),
            (Bob, A, true), (Bob, B, true),
            (Carol, A, true), (Carol, B, true),
            (SecuredBroker.Display, A, false), (SecuredBroker.Display, B, false),
        };
        foreach (var (user, instrument, allowed) in cases)
        {
            foreach (var topic in new[]
                     {
                         Topic.Command(instrument, ServiceNames.Stage, StageTopics.MoveVerb), Topic.Command(instrument, ServiceNames.Glovebox, GloveboxTopics.PumpVerb),
                         Topic.Command(instrument, ServiceNames.Scan, "abort"),
                     })
            {
                var payload = $"{user} -> {topic}";
                var code = await PublishOnceAsync(broker, user, topic, payload);
                output.WriteLine($"MATRIX | {user} | {topic} | {(allowed ? "allowed" : "denied")} expected | PUBACK {code}");
                Assert.Equal(allowed ? MqttClientPublishReasonCode.Success : MqttClientPublishReasonCode.NotAuthorized, code);
                if (allowed)
                {
                    await Eventually.TrueAsync(() => seen.Contains($"{topic}={payload}"), $"{user}'s command on {topic} delivered", Patience);
                }
            }
            // Operators still may not forge a service's status, not even the facility operator.
            var status = await PublishOnceAsync(broker, user, Topic.Status(instrument, ServiceNames.Glovebox), "forged");
            output.WriteLine($"MATRIX | {user} | {Topic.Status(instrument, ServiceNames.Glovebox)} | denied expected | PUBACK {status}");
            Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, status);
        }
        Assert.DoesNotContain(seen, m => m.Contains($"={Alice} -> seccm/{B}/", StringComparison.Ordinal)
            || m.Contains($"={SecuredBroker.Display} -> ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task B_keeps_scanning_undisturbed_while_A_s_operator_tries_to_abort_pause_and_switch_off_its_pump()
    {
        await using var broker = await FacilityAsync();
        // B's five services as the containers run them: their own user and password file (Mqtt:Username, Mqtt:PasswordFile).
        await using var rig = await ScanRig.CreateAsync(output, B, withInflux: false, sharedBroker: broker.Server, watcherUser: (Bob, broker.Password(Bob)));
        foreach (var service in ServiceNames.All)
        {
            var user = SecuredBroker.User(service, B);
            rig.StartService(service, new Dictionary<string, string>
            {
                ["SECCM__MQTT__USERNAME"] = user,
                ["SECCM__MQTT__PASSWORDFILE"] = broker.Facility.PasswordFileOf(user),
            });
        }
        await rig.WaitAllOnlineAsync();
        var commandsAtB = new ConcurrentQueue<string>();
        await rig.Watcher.SubscribeAsync($"seccm/{B}/+/cmd/+", (m, _) =>
        {
            commandsAtB.Enqueue($"{m.Topic} (replies to {m.ResponseTopic})");
            return Task.CompletedTask;
        });

        const int side = 4;
        var scanId = await rig.StartScanAsync(ScanRig.SmallRecipe(side), "fac-b-1");
        var attacks = new (string Topic, byte[] Payload)[]
        {
            (Topic.Command(B, ServiceNames.Scan, "abort"), SeccmJson.Serialize(new EmptyCommand())),
            (Topic.Command(B, ServiceNames.Scan, "pause"), SeccmJson.Serialize(new EmptyCommand())),
            (Topic.Command(B, ServiceNames.Glovebox, GloveboxTopics.PumpVerb), SeccmJson.Serialize(new PumpCommand(false, "alice at A"))),
            (Topic.Command(B, ServiceNames.Stage, StageTopics.MoveVerb), SeccmJson.Serialize(new MoveCommand(0, 0, 0))),
            (Topic.Command(B, ServiceNames.Potentiostat, PotentiostatTopics.AbortVerb), SeccmJson.Serialize(new EmptyCommand())),
        };
        var rounds = 0;
        var roundsWhileActive = 0;
        while (!rig.Finished.Any(f => f.ScanId == scanId))
        {
            var activeBefore = rig.Progress is { IsActive: true } p && p.ScanId == scanId;
            foreach (var (topic, payload) in attacks)
            {
                // A request as `seccm` sends it: the reply would go to alice's own reply topic at A.
                var code = await PublishOnceAsync(broker, Alice, new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
                    .WithResponseTopic(Topic.Reply(A, ServiceNames.Cli, "alice")).WithCorrelationData([1])
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
                if (rounds == 0)
                {
                    output.WriteLine($"MATRIX | {Alice} (operator of {A}) | {topic} during B's scan | denied expected | PUBACK {code}");
                }
                Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, code);
            }
            rounds++;
            if (activeBefore && !rig.Finished.Any(f => f.ScanId == scanId))
            {
                roundsWhileActive++;
            }
            await Task.Yield();
        }
        var finished = await rig.WaitFinishedAsync(scanId);
        output.WriteLine($"B's scan {scanId}: {finished.State}, {finished.PixelsDone}/{finished.PixelsTotal} pixels; alice's rounds: {rounds} ({roundsWhileActive} while it ran)");
        Assert.True(roundsWhileActive > 0, $"no attack round fell inside B's scan ({rounds} rounds)");
        Assert.Equal(ScanState.Completed, finished.State);
        Assert.Equal(side * side, finished.PixelsDone);
        Assert.DoesNotContain(rig.StateEvents, e => e.ScanId == scanId && e.State is ScanState.Paused or ScanState.Pausing or ScanState.Aborted);
        // Every command B's services got came from B (its scan's to the stage, potentiostat and pump, the operator's start).
        Assert.NotEmpty(commandsAtB);
        Assert.DoesNotContain(commandsAtB, c => c.Contains($"seccm/{A}/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Removing_an_instrument_revokes_its_users_and_adding_one_leaves_the_others_untouched()
    {
        await using var broker = await FacilityAsync();
        var facility = broker.Facility;
        var aFiles = InstrumentFiles(facility, A);
        var stageB = SecuredBroker.User(ServiceNames.Stage, B);
        var passwordB = broker.Password(stageB);
        using var connectedB = await ConnectAsync(broker, stageB);
        var dropped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connectedB.DisconnectedAsync += _ =>
        {
            dropped.TrySetResult();
            return Task.CompletedTask;
        };

        facility.Run("remove-instrument", B);
        Assert.Equal(aFiles, InstrumentFiles(facility, A));
        Assert.DoesNotContain($"/{B}/", File.ReadAllText(facility.AclFile), StringComparison.Ordinal);
        Assert.DoesNotContain($"@{B}:", File.ReadAllText(facility.PasswordFile), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(facility.Root, "secrets", B)), "B's passwords were left behind");
        Assert.Equal($"operator {Bob}: {A} ", facility.Run("list").Split('\n').Single(l => l.StartsWith($"operator {Bob}:", StringComparison.Ordinal)));

        broker.Server.Reload();
        await dropped.Task.WaitAsync(Patience);
        output.WriteLine($"MATRIX | {stageB} (connected) | after remove-instrument {B} + SIGHUP | disconnected by the broker");
        var (again, detail) = await TryConnectAsync(broker, stageB, passwordB);
        output.WriteLine($"MATRIX | {stageB} | connect after removal | denied expected | {detail}");
        Assert.False(again, $"{stageB} still gets in after remove-instrument: {detail}");
        var toB = await PublishOnceAsync(broker, Bob, Topic.Command(B, ServiceNames.Stage, StageTopics.MoveVerb), "bob");
        var toA = await PublishOnceAsync(broker, Bob, Topic.Command(A, ServiceNames.Stage, StageTopics.MoveVerb), "bob");
        output.WriteLine($"MATRIX | {Bob} | {Topic.Command(B, ServiceNames.Stage, StageTopics.MoveVerb)} after removal | denied expected | PUBACK {toB}");
        output.WriteLine($"MATRIX | {Bob} | {Topic.Command(A, ServiceNames.Stage, StageTopics.MoveVerb)} after removal | allowed expected | PUBACK {toA}");
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, toB);
        Assert.Equal(MqttClientPublishReasonCode.NoMatchingSubscribers, toA);

        facility.Run("add-instrument", "fac-c");
        Assert.Equal(aFiles, InstrumentFiles(facility, A));
        broker.Server.Reload();
        // SIGHUP is handled by the broker's loop after kill returns: C's user gets in once the reload is done.
        var stageC = SecuredBroker.User(ServiceNames.Stage, "fac-c");
        await Eventually.TrueAsync(() => TryConnectAsync(broker, stageC, broker.Password(stageC)).GetAwaiter().GetResult().Connected,
            $"{stageC} connects after add-instrument and reload", Patience);
        var (stageA, detailA) = await TryConnectAsync(broker, SecuredBroker.User(ServiceNames.Stage, A), broker.Password(SecuredBroker.User(ServiceNames.Stage, A)));
        Assert.True(stageA, $"A's stage with its unchanged password was refused after fac-c was added: {detailA}");
    }

    [Fact]
    public async Task A_s_operator_connected_as_the_seccm_tools_of_B_cannot_forge_B_s_status_with_a_last_will()
    {
        await using var broker = await FacilityAsync();
        var seen = await DisplayAsync(broker, "seccm/#");
        // What `seccm scan abort --instrument B` does first: connect as service "cli" of B with its will on seccm/B/cli/status.
        // mosquitto 2.0 lets the connection in (every publish is checked later) and checks the will when it fires: the
        // connection is dropped without DISCONNECT, so the broker publishes the will, B's refused and A's delivered.
        foreach (var instrument in new[] { B, A })
        {
            var client = new MqttClientFactory().CreateMqttClient();
            var result = await client.ConnectAsync(new MqttClientOptionsBuilder()
                .WithTcpServer(broker.Server.Host, broker.Server.Port)
                .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
                .WithClientId($"seccm-{instrument}-cli-alice")
                .WithCredentials(Alice, broker.Password(Alice))
                .WithWillTopic(Topic.Status(instrument, ServiceNames.Cli)).WithWillPayload($"will of alice at {instrument}")
                .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .WithTimeout(TimeSpan.FromSeconds(10)).Build());
            output.WriteLine($"MATRIX | {Alice} | connect as cli of {instrument} (will {Topic.Status(instrument, ServiceNames.Cli)}) | CONNACK {result.ResultCode}");
            client.Dispose();
        }
        await Eventually.TrueAsync(() => seen.Contains($"{Topic.Status(A, ServiceNames.Cli)}=will of alice at {A}"), "alice's will at A", Patience);
        output.WriteLine($"MATRIX | {Alice} | will on {Topic.Status(A, ServiceNames.Cli)} | allowed expected | delivered");
        output.WriteLine($"MATRIX | {Alice} | will on {Topic.Status(B, ServiceNames.Cli)} | denied expected | {(seen.Any(m => m.StartsWith($"seccm/{B}/", StringComparison.Ordinal)) ? "DELIVERED" : "not delivered")}");
        Assert.DoesNotContain(seen, m => m.StartsWith($"seccm/{B}/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Grant_and_revoke_change_an_operator_s_instruments_and_keep_the_password()
    {
        await using var broker = await FacilityAsync();
        var password = broker.Password(Alice);
        var moveAtB = Topic.Command(B, ServiceNames.Stage, StageTopics.MoveVerb);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, await PublishOnceAsync(broker, Alice, moveAtB, "before"));

        broker.Facility.Run("grant", Alice, B);
        broker.Server.Reload();
        Assert.Equal(password, broker.Password(Alice));
        // The reload is handled by the broker before the next connection's publish; retry only while it is under way.
        var afterGrant = MqttClientPublishReasonCode.NotAuthorized;
        await Eventually.TrueAsync(() => (afterGrant = PublishOnceAsync(broker, Alice, moveAtB, "granted").GetAwaiter().GetResult())
            == MqttClientPublishReasonCode.NoMatchingSubscribers, $"alice commands {B} after grant (last PUBACK {afterGrant})", Patience);
        output.WriteLine($"MATRIX | {Alice} after grant {B} | {moveAtB} | allowed expected | PUBACK {afterGrant}");

        broker.Facility.Run("revoke", Alice, B);
        broker.Server.Reload();
        var afterRevoke = MqttClientPublishReasonCode.Success;
        await Eventually.TrueAsync(() => (afterRevoke = PublishOnceAsync(broker, Alice, moveAtB, "revoked").GetAwaiter().GetResult())
            == MqttClientPublishReasonCode.NotAuthorized, $"alice refused at {B} after revoke (last PUBACK {afterRevoke})", Patience);
        output.WriteLine($"MATRIX | {Alice} after revoke {B} | {moveAtB} | denied expected | PUBACK {afterRevoke}");
        Assert.Equal(MqttClientPublishReasonCode.NoMatchingSubscribers,
            await PublishOnceAsync(broker, Alice, Topic.Command(A, ServiceNames.Stage, StageTopics.MoveVerb), "still A"));
    }

    [Theory]
    [InlineData("add-instrument", "a/b")]
    [InlineData("add-instrument", "a+b")]
    [InlineData("add-instrument", "")]
    [InlineData("add-instrument", A)]
    [InlineData("add-operator", "dave", "no-such-instrument")]
    [InlineData("add-operator", "dave", "--all", A)]
    [InlineData("add-operator", Alice, A)]
    [InlineData("add-operator", "stage@x", A)]
    [InlineData("add-display", Bob)]
    [InlineData("remove-instrument", "fac-z")]
    [InlineData("remove-user", "nobody")]
    [InlineData("frobnicate", Alice)]
    [InlineData("grant", Alice, "no-such-instrument")]
    [InlineData("grant", Carol, A)]
    [InlineData("revoke", Alice, B)]
    public void Bad_facility_commands_say_what_is_wrong_and_change_nothing(params string[] command)
    {
        using var facility = Facility.Create();
        foreach (var setup in Setup)
        {
            facility.Run(setup);
        }
        var before = Snapshot(facility.Root);
        var (code, said) = facility.TryRun(command);
        output.WriteLine($"facility.sh {string.Join(' ', command)} -> {code}: {said.Trim()}");
        Assert.Equal(2, code);
        Assert.Contains("facility.sh", said, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(facility.Root));
    }

    [Fact]
    public void The_generated_password_file_holds_only_salted_hashes_and_every_acl_user_has_one()
    {
        using var facility = Facility.Create();
        foreach (var setup in Setup)
        {
            facility.Run(setup);
        }
        var passwd = File.ReadAllLines(facility.PasswordFile).Where(l => l.Length > 0).ToDictionary(l => l[..l.IndexOf(':', StringComparison.Ordinal)], l => l);
        var aclUsers = File.ReadAllLines(facility.AclFile).Where(l => l.StartsWith("user ", StringComparison.Ordinal)).Select(l => l[5..]).ToHashSet();
        var expected = ServiceNames.All.SelectMany(s => new[] { SecuredBroker.User(s, A), SecuredBroker.User(s, B) })
            .Concat([Alice, Bob, Carol, SecuredBroker.Display]).ToHashSet();
        Assert.Equal(expected.Order(), aclUsers.Order());
        Assert.Equal(expected.Order(), passwd.Keys.Order());
        foreach (var (user, line) in passwd)
        {
            // mosquitto_passwd 2.x: PBKDF2-SHA512 ($7$), never the plain secret.
            Assert.StartsWith($"{user}:$7$", line, StringComparison.Ordinal);
            Assert.DoesNotContain(facility.Password(user), line, StringComparison.Ordinal);
        }
        Assert.Equal(expected.Count, expected.Select(facility.Password).Distinct().Count());
    }

    /// <summary>Two instruments, an operator of A, an operator of A and B, a facility operator and the display.</summary>
    private static readonly string[][] Setup =
    [
        ["add-display", SecuredBroker.Display],
        ["add-instrument", A],
        ["add-instrument", B],
        ["add-operator", Alice, A],
        ["add-operator", Bob, A, B],
        ["add-operator", Carol, "--all"],
    ];

    private static Task<SecuredBroker> FacilityAsync() => SecuredBroker.StartAsync(Setup);

    /// <summary>A topic the user may publish in its own instrument (null for the display, which may publish nothing).</summary>
    private static string? OwnAllowedTopic(string user)
    {
        var at = user.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            return Topic.Status(user[(at + 1)..], user[..at]);
        }
        return user == SecuredBroker.Display ? null : Topic.Command(A, ServiceNames.Stage, StageTopics.MoveVerb);
    }

    /// <summary>The files of one instrument that facility.sh wrote: its secrets, hashes and compose fragment, by content.</summary>
    private static Dictionary<string, string> InstrumentFiles(Facility facility, string instrument) =>
        new[] { Path.Combine("secrets", instrument), Path.Combine("instruments", instrument) }
            .SelectMany(d => Directory.GetFiles(Path.Combine(facility.Root, d)))
            .Append(Path.Combine(facility.Root, "mosquitto", "facility", $"instrument-{instrument}.passwd"))
            .ToDictionary(f => Path.GetRelativePath(facility.Root, f), File.ReadAllText);

    private static SortedDictionary<string, string> Snapshot(string root) =>
        new(Directory.GetFiles(root, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(root, f), File.ReadAllText),
            StringComparer.Ordinal);

    private async Task<ConcurrentBag<string>> DisplayAsync(SecuredBroker broker, string filter)
    {
        var display = await ConnectAsync(broker, SecuredBroker.Display);
        var seen = new ConcurrentBag<string>();
        display.ApplicationMessageReceivedAsync += e =>
        {
            seen.Add($"{e.ApplicationMessage.Topic}={e.ApplicationMessage.ConvertPayloadToString()}");
            return Task.CompletedTask;
        };
        var sub = await display.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, sub.Items.Single().ResultCode);
        output.WriteLine($"MATRIX | display | subscribe {filter} | allowed expected | SUBACK {sub.Items.Single().ResultCode}");
        return seen;
    }

    /// <summary>
    /// One QoS 1 publish on its own connection, returning the broker's PUBACK reason. (MQTTnet 5.2 closes its connection
    /// right after a PUBACK "not authorized" from mosquitto 2.0, so every attempt gets a fresh one.)
    /// </summary>
    private static Task<MqttClientPublishReasonCode> PublishOnceAsync(SecuredBroker broker, string user, string topic, string payload) =>
        PublishOnceAsync(broker, user, Message(topic, payload));

    private static async Task<MqttClientPublishReasonCode> PublishOnceAsync(SecuredBroker broker, string user, MqttApplicationMessage message)
    {
        using var client = await ConnectAsync(broker, user);
        return (await client.PublishAsync(message)).ReasonCode;
    }

    private static MqttApplicationMessage Message(string topic, string payload) =>
        new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();

    private static async Task<IMqttClient> ConnectAsync(SecuredBroker broker, string user)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(Options(broker, user, broker.Password(user)));
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        return client;
    }

    private static async Task<(bool Connected, string Detail)> TryConnectAsync(SecuredBroker broker, string user, string password)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        try
        {
            var result = await client.ConnectAsync(Options(broker, user, password));
            return (result.ResultCode == MqttClientConnectResultCode.Success && client.IsConnected, result.ResultCode.ToString());
        }
        catch (MqttCommunicationException ex)
        {
            return (false, ex.Message);
        }
    }

    private static MqttClientOptions Options(SecuredBroker broker, string user, string password) =>
        new MqttClientOptionsBuilder()
            .WithTcpServer(broker.Server.Host, broker.Server.Port)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithClientId($"facility-{user.Replace('@', '-')}-{Guid.NewGuid():N}")
            .WithCredentials(user, password)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();
}
