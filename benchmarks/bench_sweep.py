"""Wall time and peak memory of an acute parameter sweep on worker processes.

Usage:  python benchmarks/bench_sweep.py [--sweep examples/sweeps/psoas_x_calf.toml] [--workers 2]
                                         [--duration 20] [--batch-size N] [--store DIR] [--out bench_sweep.json]

Runs the sweep file's grid (default: the 11 x 11 psoas_shortening x calf_stiffness grid at 20 s per
point) with ``gaitsim.sweep.sweep`` on a ``ProcessPoolExecutor`` of ``--workers`` spawned processes
and reports: wall time (s, including the workers' start-up), points per second, the batch size
used, how many points walked, fell or diverged, and peak resident memory (``resource.getrusage``):
of this process, of the largest worker (``RUSAGE_CHILDREN`` reports the largest child that has
finished, i.e. after the pool shuts down) and their sum, main + workers x largest worker, an upper
bound of the memory in use at once. Prints a table and writes JSON. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _mib(kib: int) -> float:
    return kib / 1024.0  # ru_maxrss is in KiB on Linux


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", default=str(ROOT / "examples" / "sweeps" / "psoas_x_calf.toml"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--duration", type=float, default=20.0, help="simulated s per point")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--store", default=None, help="store folder (default: none)")
    ap.add_argument("--out", default="bench_sweep.json")
    a = ap.parse_args(argv)

    from gaitsim import sweep as sw

    scenario, grid = sw.load_sweep(a.sweep)
    n_points = 1
    for v in grid.values():
        n_points *= len(v)
    start = time.perf_counter()
    with ProcessPoolExecutor(a.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        ds = sw.sweep(scenario, grid, duration=a.duration, batch_size=a.batch_size, executor=pool, store=a.store,
                      progress=sys.stderr.isatty())
    wall = time.perf_counter() - start
    main_rss = _mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    child_rss = _mib(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    status = ds["status"].values.ravel().tolist()
    report = {
        "grid": {k: len(v) for k, v in grid.items()}, "points": n_points, "duration_s": a.duration,
        "workers": a.workers, "batch_size": int(ds.attrs["batch_size"]), "wall_s": round(wall, 2),
        "points_per_s": round(n_points / wall, 3), "walker_s_per_s": round(n_points * a.duration / wall, 2),
        "walked": status.count("ok"), "fell": status.count("fell"), "diverged": status.count("diverged"),
        "peak_rss_main_mib": round(main_rss, 1), "peak_rss_largest_worker_mib": round(child_rss, 1),
        "peak_rss_main_plus_workers_mib": round(main_rss + a.workers * child_rss, 1),
    }
    for k, v in report.items():
        print(f"{k:32s} {v}")
    Path(a.out).write_text(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
