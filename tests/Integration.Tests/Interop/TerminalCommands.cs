using System.Globalization;
using System.Text;

namespace Seccm.Integration.Tests.Interop;

/// <summary>
/// The command lines of the README's "Watch it from another terminal" section, read from the README itself so
/// that the tests run exactly what a reader types, moved to the test's broker port and instrument.
/// </summary>
internal sealed class TerminalCommands
{
    public const string Section = "## Watch it from another terminal";
    public const string ReadmeInstrument = "sim1";

    private readonly IReadOnlyList<IReadOnlyList<string>> _lines;

    private TerminalCommands(IReadOnlyList<IReadOnlyList<string>> lines) => _lines = lines;

    public static TerminalCommands FromReadme()
    {
        var readme = Path.Combine(Security.SecuredBroker.RepositoryRoot(), "README.md");
        var text = File.ReadAllLines(readme);
        var start = Array.IndexOf(text, Section);
        Assert.True(start >= 0, $"{readme} has no '{Section}' section");
        var lines = new List<IReadOnlyList<string>>();
        var inCode = false;
        for (var i = start + 1; i < text.Length && !text[i].StartsWith("## ", StringComparison.Ordinal); i++)
        {
            if (text[i].StartsWith("```", StringComparison.Ordinal))
            {
                inCode = !inCode;
            }
            else if (inCode && Split(text[i]) is { Count: > 0 } words)
            {
                lines.Add(words);
            }
        }
        Assert.True(lines.Count > 0, $"the '{Section}' section of {readme} shows no commands");
        return new TerminalCommands(lines);
    }

    /// <summary>The one line that runs <paramref name="program"/> and contains <paramref name="containing"/> (a topic, a verb).</summary>
    public IReadOnlyList<string> Line(string program, string containing = "")
    {
        var found = _lines.Where(l => l[0] == program && l.Any(w => w.Contains(containing, StringComparison.Ordinal))).ToList();
        Assert.True(found.Count == 1,
            $"expected one '{program} ... {containing}' line in the README's '{Section}', found {found.Count}");
        return found[0];
    }

    /// <summary>A mosquitto client line aimed at 127.0.0.1:<paramref name="port"/> and <paramref name="instrument"/>.</summary>
    public static IReadOnlyList<string> ForMosquittoClient(IReadOnlyList<string> line, int port, string instrument) =>
        [line[0], "-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), .. line.Skip(1).Select(w => Localize(w, instrument))];

    /// <summary>A <c>seccm</c> line with the broker and instrument flags.</summary>
    public static IReadOnlyList<string> ForSeccm(IReadOnlyList<string> line, int port, string instrument) =>
        [.. line.Skip(1), "--mqtt-host", "127.0.0.1", "--mqtt-port", port.ToString(CultureInfo.InvariantCulture), "--instrument", instrument];

    private static string Localize(string word, string instrument) =>
        word.Replace($"seccm/{ReadmeInstrument}/", $"seccm/{instrument}/", StringComparison.Ordinal);

    /// <summary>Shell words: single quotes group, a word starting with '#' starts a comment.</summary>
    private static List<string> Split(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var quoted = false;
        var inWord = false;
        foreach (var c in line)
        {
            if (quoted)
            {
                if (c == '\'')
                {
                    quoted = false;
                }
                else
                {
                    word.Append(c);
                }
            }
            else if (c == '\'')
            {
                quoted = inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else if (c == '#' && !inWord)
            {
                break;
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }
        Assert.False(quoted, $"unbalanced quote in the README line: {line}");
        if (inWord)
        {
            words.Add(word.ToString());
        }
        return words;
    }
}
