using System.Numerics;
using System.Runtime.InteropServices;

namespace Seccm.Electrochemistry.Analysis;

/// <summary>Savitzky-Golay smoothing (quadratic/cubic, symmetric window); edges use mirrored samples.</summary>
public static class SavitzkyGolay
{
    /// <summary>Smooths <paramref name="input"/> into <paramref name="output"/> with a window of 2*halfWidth+1 samples.</summary>
    public static void Smooth(ReadOnlySpan<double> input, Span<double> output, int halfWidth)
    {
        if (output.Length < input.Length) throw new ArgumentException("output shorter than input", nameof(output));
        int n = input.Length;
        int m = Math.Min(halfWidth, (n - 1) / 2);
        if (m < 1) { input.CopyTo(output); return; }
        // Quadratic least-squares convolution weights: 3(3m^2+3m-1-5k^2) / ((4m^2-1)(2m+3)).
        Span<double> w = m <= 256 ? stackalloc double[m + 1] : new double[m + 1];
        double norm = (4.0 * m * m - 1) * (2 * m + 3);
        for (int k = 0; k <= m; k++) w[k] = 3.0 * (3.0 * m * m + 3 * m - 1 - 5.0 * k * k) / norm;
        int i = m;
        if (Vector.IsHardwareAccelerated)
        {
            // Several outputs at once, each lane summing its window in the same order as the scalar loop below (the same bits).
            ref double x = ref MemoryMarshal.GetReference(input);
            for (; i + Vector<double>.Count <= n - m; i += Vector<double>.Count)
            {
                var s = new Vector<double>(w[0]) * Vector.LoadUnsafe(ref x, (nuint)i);
                for (int k = 1; k <= m; k++) s += new Vector<double>(w[k]) * (Vector.LoadUnsafe(ref x, (nuint)(i - k)) + Vector.LoadUnsafe(ref x, (nuint)(i + k)));
                s.CopyTo(output[i..]);
            }
        }
        for (; i < n - m; i++)
        {
            double s = w[0] * input[i];
            for (int k = 1; k <= m; k++) s += w[k] * (input[i - k] + input[i + k]);
            output[i] = s;
        }
        // The first and the last m outputs, whose windows run off the ends.
        for (i = 0; i < n; i = i == m - 1 ? n - m : i + 1)
        {
            double s = w[0] * input[i];
            for (int k = 1; k <= m; k++) s += w[k] * (input[Mirror(i - k, n)] + input[Mirror(i + k, n)]);
            output[i] = s;
        }
    }

    private static int Mirror(int i, int n) => i < 0 ? Math.Min(-i, n - 1) : i >= n ? Math.Max(2 * (n - 1) - i, 0) : i;
}
