"""Throughput of the walking model (reflex controller + body) by batch size, 1 and 2 processes.

Usage:  python benchmarks/bench_walking.py [--solution tuned.json] [--sizes 1 16 256 1024 4096]
                                           [--seconds 0.25] [--out bench_walking.json]

For each batch size B the tuned walker (``--solution``, default the shipped healthy parameters)
is simulated for ``--seconds`` of simulated time after a 0.1 s warm-up, in one process and in two
worker processes (each B/2 walkers, run at the same time). Reported: microseconds per walker per
step, walker-seconds simulated per wall-second, and peak RSS of the worker. Prints a table and
writes JSON. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np


def _load(solution):
    if solution:
        return json.loads(Path(solution).read_text())
    from gaitsim.tuned import load_tuned

    return load_tuned("trunk_initiated")


def run(args) -> dict:
    b, seconds, sol = args
    import gaitsim as gs
    from gaitsim.tuned import walker_from_solutions

    dt = gs.DEFAULT_DT
    model = gs.build_model(batch_size=b)
    ctrl, x0 = walker_from_solutions(model, sol, dt)
    res = gs.simulate(model, ctrl, duration=0.1, initial_state=x0, save=gs.SaveFinal())
    t0 = time.perf_counter()
    gs.simulate(model, ctrl, duration=seconds, initial_state=res.final_state, t0=res.t_end, save=gs.SaveFinal())
    wall = time.perf_counter() - t0
    steps = int(round(seconds / dt))
    return {"wall": wall, "steps": steps, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--solution", default=None)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 16, 256, 1024, 4096])
    ap.add_argument("--seconds", type=float, default=0.25)
    ap.add_argument("--out", default="bench_walking.json")
    a = ap.parse_args(argv)
    sol = _load(a.solution)
    rows = []
    print(f"{'B':>6} {'procs':>5} {'us/walker/step':>15} {'walker-s/s':>11} {'RSS MB':>8}")
    for b in a.sizes:
        for procs in (1, 2):
            if procs == 2 and b < 2:
                continue
            with ProcessPoolExecutor(max_workers=procs) as pool:
                parts = list(pool.map(run, [(b // procs, a.seconds, sol)] * procs))
            wall = max(p["wall"] for p in parts)
            steps = parts[0]["steps"]
            row = {"batch": b, "processes": procs, "us_per_walker_step": 1e6 * wall / (steps * b),
                   "walker_s_per_wall_s": b * a.seconds / wall, "peak_rss_mb": max(p["rss_mb"] for p in parts)}
            rows.append(row)
            print(f"{b:>6} {procs:>5} {row['us_per_walker_step']:>15.2f} {row['walker_s_per_wall_s']:>11.2f} "
                  f"{row['peak_rss_mb']:>8.0f}", flush=True)
    meta = {"python": platform.python_version(), "numpy": np.__version__, "seconds": a.seconds,
            "solution": a.solution or "shipped trunk_initiated"}
    Path(a.out).write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
