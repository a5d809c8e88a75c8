"""Figures for memtrace's benchmark tools, drawn with gnuplot (no Python packages).

gp: running gnuplot, quoting, data blocks, PNG + SVG output.
charts: the benchmark's bar charts (peak memory per N, bytes per task).
"""
