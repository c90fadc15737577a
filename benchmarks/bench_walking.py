"""Throughput, memory and step-size accuracy of the walking model (reflex controller + body).

Usage:  python benchmarks/bench_walking.py [--solution tuned.json] [--sizes 1 16 256 1024 4096]
                                           [--seconds 0.25] [--accuracy-seconds 20] [--out bench_walking.json]
                                           [--dt 5e-4] [--fiber-iterations 0] [--normal-contact explicit]
                                           [--mechanics-substeps 4] [--damping-theta 0.5] [--repeats 5]

For each batch size B the tuned walker (``--solution``, default the shipped healthy parameters)
is simulated for ``--seconds`` of simulated time after a 0.1 s warm-up, in one process and in two
worker processes (each B/2 walkers; both wait at a barrier after their start-up and warm-up, so
that the timed runs start together and neither is timed while the other still imports and loads
its compiled kernels). Reported per row: microseconds per
right-hand-side evaluation per walker (forces + mass matrix + solve, without controller and
update), microseconds per walker per full step, walker-seconds simulated per wall-second, and
peak RSS of the worker; with ``--repeats N`` each row is run N times and reports the median (and the
range of walker-s/s: on a shared 2-core VM the 2-process figure varied by about 15 % between runs).
Then:

* sweep memory per walker: state + controller memory + ``SaveSummary`` results (bytes);
* accuracy: the walker simulated ``--accuracy-seconds`` at the step and at half of it
  (two processes); stride metrics over the strides after ``--accuracy-settle`` s (default 2) and
  their relative difference (issue target: within 1 %). ``--accuracy-seconds 0`` skips it.

Prints tables and writes JSON. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import Manager
from pathlib import Path

import numpy as np


def _load(solution):
    if solution:
        return json.loads(Path(solution).read_text())
    from gaitsim.tuned import load_tuned

    return load_tuned("trunk_initiated")


def run(args) -> dict:
    b, seconds, sol, backend, dt, options, barrier = args
    import gaitsim as gs
    from gaitsim.tuned import walker_from_solutions

    model = gs.build_model(batch_size=b)
    ctrl, x0 = walker_from_solutions(model, sol, backend=backend)
    solver = gs.SemiImplicitEuler(backend=backend, **options)
    res = gs.simulate(model, ctrl, duration=0.1, dt=dt, initial_state=x0, save=gs.SaveFinal(), solver=solver)
    if barrier is not None:  # the workers' timed runs start together
        barrier.wait(timeout=600)
    t0 = time.perf_counter()
    gs.simulate(model, ctrl, duration=seconds, dt=dt, initial_state=res.final_state, t0=res.t_end,
                save=gs.SaveFinal(), solver=solver)
    wall = time.perf_counter() - t0
    steps = int(round(seconds / dt))
    rhs = _rhs_time(model, res.final_state, backend)
    return {"wall": wall, "steps": steps, "rhs_s": rhs,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _rhs_time(model, state, backend: str = "numpy", repeats: int = 20) -> float:
    """Best-of wall time (s) of one ``evaluate_forces`` + ``accelerations`` on a walking state."""
    from gaitsim.state import StateLayout

    if backend == "numba":
        from gaitsim.compiled import accelerations, evaluate_forces
    else:
        from gaitsim.dynamics import accelerations, evaluate_forces

    layout = StateLayout(state.shape[1] - StateLayout(0).size)
    x = np.ascontiguousarray(state.T)
    blk = layout.blocks
    nb = x.shape[1]
    args = (x[blk["q"]], x[blk["qdot"]], x[blk["activation"]], x[blk["fiber_length"]],
            x[blk["anchor"]].reshape(2, 2, nb), x[blk["mode"]].reshape(2, 2, nb))
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        accelerations(model, evaluate_forces(model, *args), damping_step=2.5e-4)
        best = min(best, time.perf_counter() - t0)
    return best


def sweep_memory(sol, b: int = 256) -> dict:
    """Bytes per walker kept by a sweep: state (physical + controller memory) and SaveSummary results."""
    import gaitsim as gs
    from gaitsim.tuned import tuned_dt, walker_from_solutions

    model = gs.build_model(batch_size=b)
    ctrl, x0 = walker_from_solutions(model, sol)
    res = gs.simulate(model, ctrl, duration=0.01, dt=tuned_dt(sol), initial_state=x0, save=gs.SaveSummary())
    state = res.final_state.nbytes / b
    summary = sum(v.nbytes for k, v in res.data.items()) / b
    return {"state_bytes_per_walker": state, "summary_bytes_per_walker": summary,
            "total_bytes_per_walker": state + summary}


def accuracy_run(args) -> dict:
    """Stride metrics of the walker at one step size (strides after ``settle`` s); numba when installed
    (it agrees with numpy to 1e-9, tests/test_compiled.py, and makes the half-step run cheap)."""
    dt, seconds, sol, settle, options = args
    from bench_step_size import stride_metrics  # this folder (run as a script)

    from gaitsim.compiled import available

    return stride_metrics(sol, dt, seconds, "numba" if available() else "numpy", settle, options)


ACCURACY_METRICS = ("speed", "cadence", "stride_time", "stride_length", "stance_pct", "double_support_pct")


def main(argv=None):
    from gaitsim.cli import add_solver_arguments, solver_overrides

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--solution", default=None)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 16, 256, 1024, 4096])
    ap.add_argument("--seconds", type=float, default=0.25)
    ap.add_argument("--repeats", type=int, default=1,
                    help="runs per row; the row reports the median and the range (the 2-process figure of a shared "
                         "2-core VM varied by about 15 %% between runs)")
    ap.add_argument("--accuracy-seconds", type=float, default=20.0)
    ap.add_argument("--accuracy-settle", type=float, default=2.0, help="strides before this time (s) are skipped")
    ap.add_argument("--backends", nargs="+", default=["numpy", "numba"], choices=["numpy", "numba"],
                    help="numba rows are skipped when numba is not installed")
    ap.add_argument("--dt", type=float, default=None, help="step (s); default: the step the walker was tuned at")
    add_solver_arguments(ap, default="what the walker was tuned with")
    ap.add_argument("--out", default="bench_walking.json")
    a = ap.parse_args(argv)
    sol = _load(a.solution)
    from gaitsim.tuned import solver_options, tuned_dt

    dt = a.dt if a.dt is not None else tuned_dt(sol)  # as tuned, unless overridden
    options = solver_options(sol, **solver_overrides(a))
    print(f"dt {dt * 1e3:g} ms, solver {options}")
    rows = []
    from gaitsim.compiled import available

    backends = [b for b in a.backends if b == "numpy" or available()]
    print(f"{'backend':>8} {'B':>6} {'procs':>5} {'rhs us/walker':>14} {'us/walker/step':>15} {'walker-s/s':>11} "
          f"{'RSS MB':>8}" + (f" {'range of runs':>16}" if a.repeats > 1 else ""))
    for backend in backends:
        for b in a.sizes:
            for procs in (1, 2):
                if procs == 2 and b < 2:
                    continue
                walls, rhs, rss = [], [], []
                for _ in range(max(1, a.repeats)):
                    with Manager() as manager, ProcessPoolExecutor(max_workers=procs) as pool:
                        barrier = manager.Barrier(procs) if procs > 1 else None
                        parts = list(pool.map(run, [(b // procs, a.seconds, sol, backend, dt, options, barrier)]
                                              * procs))
                    walls.append(max(p["wall"] for p in parts))  # the batch is done when its last part is
                    rhs.append(parts[0]["rhs_s"])
                    rss.append(max(p["rss_mb"] for p in parts))
                wall = float(np.median(walls))
                steps = parts[0]["steps"]
                runs = [b * a.seconds / w for w in walls]
                row = {"backend": backend, "batch": b, "processes": procs,
                       "rhs_us_per_walker": 1e6 * float(np.median(rhs)) / (b // procs),
                       "us_per_walker_step": 1e6 * wall / (steps * b),
                       "walker_s_per_wall_s": b * a.seconds / wall, "walker_s_per_wall_s_runs": runs,
                       "peak_rss_mb": max(rss)}
                rows.append(row)
                spread = f" {min(runs):>7.1f}-{max(runs):<8.1f}" if a.repeats > 1 else ""
                print(f"{backend:>8} {b:>6} {procs:>5} {row['rhs_us_per_walker']:>14.2f} "
                      f"{row['us_per_walker_step']:>15.2f} {row['walker_s_per_wall_s']:>11.2f} "
                      f"{row['peak_rss_mb']:>8.0f}{spread}", flush=True)
    memory = sweep_memory(sol)
    print("sweep memory per walker (bytes): " + ", ".join(f"{k} {v:.0f}" for k, v in memory.items()))
    accuracy = None
    if a.accuracy_seconds > 0:
        dts = (dt, dt / 2)
        with ProcessPoolExecutor(max_workers=2) as pool:
            full, half = pool.map(accuracy_run, [(d, a.accuracy_seconds, sol, a.accuracy_settle, options)
                                                 for d in dts])
        rel = {k: 100.0 * (full[k] - half[k]) / half[k] for k in ACCURACY_METRICS}
        accuracy = {"default_step": full, "half_step": half, "relative_difference_pct": rel,
                    "within_1pct": bool(all(abs(v) <= 1.0 for v in rel.values()))}
        print(f"accuracy ({a.accuracy_seconds:g} s, strides after {a.accuracy_settle:g} s): "
              f"status {full['status']} / {half['status']}")
        print(f"{'metric':>20} {'dt':>10} {'dt/2':>10} {'diff %':>8}")
        for k in ACCURACY_METRICS:
            print(f"{k:>20} {full[k]:>10.4g} {half[k]:>10.4g} {rel[k]:>8.2f}")
    meta = {"python": platform.python_version(), "numpy": np.__version__, "seconds": a.seconds, "dt": dt,
            "solver": options,
            "solution": a.solution or "shipped trunk_initiated"}
    Path(a.out).write_text(json.dumps({"meta": meta, "rows": rows, "sweep_memory": memory, "accuracy": accuracy},
                                      indent=2))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
