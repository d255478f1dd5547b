using System.Globalization;
using Seccm.Contracts.Topics;

namespace Seccm.Contracts.Messages;

/// <summary>
/// The limits every payload between services is checked against, in one place: each check names the field and says
/// what is wrong, or returns null. A payload's <see cref="IValidatable.Validate"/> lists them with <see cref="Of"/>.
/// </summary>
public static class Problems
{
    /// <summary>The largest grid side (pixels along x or y) a scan may have; pixel coordinates ix/iy lie below it.</summary>
    public const int MaxGridSide = 100_000;

    /// <summary>The longest free text (a reason, a fault, a detail) a payload carries.</summary>
    public const int MaxTextLength = 2000;

    /// <summary>The problems among the checks given (nulls are checks that passed).</summary>
    public static IEnumerable<string> Of(params string?[] checks) => checks.OfType<string>();

    public static string? ScanId(string? scanId, string field = "scanId") =>
        Topic.IsValidSegment(scanId) ? null : $"{field} '{scanId}' must be 1-64 letters, digits, '-', '_' or '.'";

    public static string? OptionalScanId(string? scanId, string field = "scanId") => scanId is null ? null : ScanId(scanId, field);

    public static string? NonNegative(long value, string field) =>
        value >= 0 ? null : string.Create(CultureInfo.InvariantCulture, $"{field} must be >= 0, got {value}");

    public static string? GridIndex(int value, string field) =>
        value is >= 0 and < MaxGridSide ? null : string.Create(CultureInfo.InvariantCulture, $"{field} must be 0-{MaxGridSide - 1}, got {value}");

    public static string? GridSide(int value, string field) =>
        value is > 0 and <= MaxGridSide ? null : string.Create(CultureInfo.InvariantCulture, $"{field} must be 1-{MaxGridSide}, got {value}");

    public static string? Finite(double value, string field) =>
        double.IsFinite(value) ? null : string.Create(CultureInfo.InvariantCulture, $"{field} must be a finite number, got {value}");

    public static string? Finite(double? value, string field) => value is { } v ? Finite(v, field) : null;

    public static string? NonNegative(double? value, string field) =>
        value is not { } v || (double.IsFinite(v) && v >= 0) ? null : string.Create(CultureInfo.InvariantCulture, $"{field} must be a finite number >= 0, got {v}");

    public static string? Positive(double value, string field) =>
        double.IsFinite(value) && value > 0 ? null : string.Create(CultureInfo.InvariantCulture, $"{field} must be a finite number > 0, got {value}");

    public static string? Text(string? value, string field, bool required = true) =>
        value is null || value.Length == 0 ? (required ? $"{field} must not be empty" : null)
        : value.Length > MaxTextLength ? $"{field} is {value.Length} characters; at most {MaxTextLength}"
        : null;

    public static string? OneOf(string? value, string field, params string[] allowed) =>
        value is not null && allowed.Contains(value, StringComparer.Ordinal) ? null : $"{field} '{value}' must be one of {string.Join(", ", allowed)}";

    public static string? Defined<TEnum>(TEnum value, string field) where TEnum : struct, Enum =>
        Enum.IsDefined(value) ? null : $"{field} {value} is not a known {typeof(TEnum).Name}";

    public static string? Count(int count, int total, string field, string totalField) =>
        count >= 0 && total >= 0 && count <= total ? null
        : string.Create(CultureInfo.InvariantCulture, $"{field} {count} must be 0-{totalField} ({total})");

    /// <summary>The problems of every element of a list, each prefixed with its place (<c>pixels[3]: ...</c>).</summary>
    public static IEnumerable<string> Each<T>(IReadOnlyList<T>? items, string field, Func<T, IEnumerable<string>> validate)
    {
        if (items is null)
        {
            yield return $"{field} must be a list";
            yield break;
        }
        for (var i = 0; i < items.Count; i++)
        {
            foreach (var problem in validate(items[i]))
            {
                yield return string.Create(CultureInfo.InvariantCulture, $"{field}[{i}]: {problem}");
            }
        }
    }
}
