"""Cost of one right-hand-side evaluation and of one integrator step, per walker, by batch size.

Usage:  python benchmarks/bench_core.py [--out bench_core.json] [--sizes 1 64 1024 4096]

Measures, for a standing model held by PoseHold (muscles, contact and limits on):
* rhs_us_per_walker: one ``evaluate_forces`` + ``accelerations`` (forces, mass matrix, solve);
* step_us_per_walker: one full ``SemiImplicitEuler.step`` (adds controller and state update);
* walker_s_per_wall_s at the default step;
* state bytes per walker and result bytes per saved sample per walker.
Prints a table and writes JSON. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import tracemalloc

import numpy as np

import gaitsim as gs
from gaitsim.dynamics import accelerations, evaluate_forces
from gaitsim.results import FIELDS
from gaitsim.state import StateLayout


def _best(fn, repeats=5, min_time=0.2):
    best = np.inf
    for _ in range(repeats):
        n, t0 = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            el = time.perf_counter() - t0
            if el > min_time:
                break
        best = min(best, el / n)
    return best


def measure(b: int) -> dict:
    m = gs.build_model(batch_size=b)
    x0 = gs.initial_state(m, gs.standing_pose(m, 0.0))
    ctrl = gs.PoseHold()
    res = gs.simulate(m, ctrl, duration=0.05, initial_state=x0, save=gs.SaveFinal())  # land on the feet first
    x = np.ascontiguousarray(res.final_state.T)
    layout = StateLayout(x.shape[0] - StateLayout(0).size)
    blk = layout.blocks
    mem = ctrl.initial_memory(m, x[blk["q"]], x[blk["qdot"]])
    args = (x[blk["q"]], x[blk["qdot"]], x[blk["activation"]], x[blk["fiber_length"]],
            x[blk["anchor"]].reshape(2, 2, b), x[blk["mode"]].reshape(2, 2, b))

    def rhs():
        fs = evaluate_forces(m, *args)
        accelerations(m, fs, None, None, gs.DEFAULT_DT)

    solver = gs.SemiImplicitEuler()

    n_phys = StateLayout(0).size
    x_phys, x_mem = np.ascontiguousarray(x[:n_phys]), np.ascontiguousarray(x[n_phys:])
    state = solver.init(m, x_phys, gs.DEFAULT_DT)

    def step():
        solver.step(m, 0.0, x_phys, x_mem, ctrl, state)

    t_rhs = _best(rhs)
    t_step = _best(step)
    tracemalloc.start()
    step()
    transient = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    per_sample = sum(8 * int(np.prod([len(a) for a in FIELDS[f][0]])) for f in FIELDS)
    return {
        "batch": b,
        "rhs_us_per_walker": 1e6 * t_rhs / b,
        "step_us_per_walker": 1e6 * t_step / b,
        "walker_s_per_wall_s": b * gs.DEFAULT_DT / t_step,
        "state_bytes_per_walker": 8 * layout.size,
        "step_peak_temporary_bytes_per_walker": transient / b,
        "saved_bytes_per_sample_per_walker_all_fields": per_sample,
        "memory": mem.shape[0],
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 64, 1024, 4096])
    ap.add_argument("--out", default="bench_core.json")
    a = ap.parse_args(argv)
    rows = [measure(b) for b in a.sizes]
    print(f"{'B':>6} {'RHS us/walker':>14} {'step us/walker':>15} {'walker-s/s':>11} {'state B/walker':>15} "
          f"{'step temp B/walker':>19}")
    for r in rows:
        print(f"{r['batch']:>6} {r['rhs_us_per_walker']:>14.2f} {r['step_us_per_walker']:>15.2f} "
              f"{r['walker_s_per_wall_s']:>11.2f} {r['state_bytes_per_walker']:>15} "
              f"{r['step_peak_temporary_bytes_per_walker']:>19.0f}")
    meta = {"python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine(),
            "dt": gs.DEFAULT_DT}
    with open(a.out, "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=2)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
