#!/usr/bin/python3
"""Baseline for `seccm bench analyze`: the plain Randles-Sevcik method as a straightforward numpy/scipy script.

Reads a long CSV (pixel_x,pixel_y,scan_rate_v_s,potential_v,current_a), and for every pixel and rate: Savitzky-Golay
smoothing of the forward sweep, a straight baseline through its first quarter, the forward peak above it; then
ip against sqrt(v) with numpy.polyfit and D = (slope / (0.4463 n F A C sqrt(nF/RT)))^2. Prints one JSON line:
pixels, median_d_cm2_s, wall seconds, peak resident memory. Usage: analyze_plain.py FILE RADIUS_NM CONCENTRATION_MOL_CM3
"""
import json
import resource
import sys
import time

import numpy as np
from scipy.signal import savgol_filter

F, R, T = 96485.33212, 8.314462618, 298.15


def main():
    path, radius_nm, conc = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    started = time.perf_counter()
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    area = np.pi * (radius_nm * 1e-7) ** 2
    factor = 0.4463 * F * area * conc * np.sqrt(F / (R * T))
    # Rows of one pixel and one rate are contiguous: split where any of the three keys changes.
    keys = data[:, :3]
    starts = np.flatnonzero(np.any(keys[1:] != keys[:-1], axis=1)) + 1
    bounds = np.concatenate(([0], starts, [len(data)]))
    pixels = {}
    for a, b in zip(bounds[:-1], bounds[1:]):
        e, i = data[a:b, 3], data[a:b, 4]
        turn = np.flatnonzero(np.diff(np.sign(np.diff(e))) != 0)
        vertex = turn[0] + 1 if len(turn) else len(e) - 1
        e, i = e[: vertex + 1], i[: vertex + 1]
        direction = np.sign(e[-1] - e[0])
        step = abs(e[-1] - e[0]) / max(1, vertex)
        window = max(5, int(round(0.04 / step)) | 1)
        smooth = savgol_filter(i, min(window, len(i) - (1 - len(i) % 2)), 2)
        n0, n1 = int(0.03 * vertex), max(int(0.03 * vertex) + 3, int(0.25 * vertex))
        slope, offset = np.polyfit(e[n0:n1], smooth[n0:n1], 1)
        corrected = direction * (smooth - (offset + slope * e))
        ip = corrected[n1:].max()
        pixels.setdefault((int(data[a, 0]), int(data[a, 1])), []).append((data[a, 2], ip))
    d = []
    for curves in pixels.values():
        v, ip = np.array(curves).T
        if len(v) < 2:
            continue
        slope = np.polyfit(np.sqrt(v), ip, 1)[0]
        d.append((slope / factor) ** 2 if slope > 0 else np.nan)
    d = np.array(d)
    print(json.dumps({"pixels": len(pixels), "median_d_cm2_s": float(np.nanmedian(d)) if len(d) else None,
                      "wall_s": time.perf_counter() - started,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3}))


if __name__ == "__main__":
    main()
