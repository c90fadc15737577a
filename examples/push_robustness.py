"""Push robustness of a tuned walker: horizontal pushes on the trunk at random phases.

    python examples/push_robustness.py [tuned.json] [--sizes 25 50 -50 100] [--n 100] [--duration 8]

For each push size (N, positive forward, negative backward, 100 ms at the torso centre of mass),
``--n`` copies of the walker are pushed at random times between 3 s and 4.5 s (random phases of
the gait) in one batch and simulated to ``--duration``; the script prints the survival fraction
per size. Without a file it pushes the shipped walker of ``--mode``. The walker runs with the
integrator it was tuned with (``gaitsim.tuned.tuned_solver``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import gaitsim as gs
from gaitsim.cli import add_solver_arguments, solver_overrides
from gaitsim.tuned import load_tuned, tuned_dt, tuned_solver, walker_from_solutions


def survival(sol: dict, size: float, n: int, duration: float, seed: int = 0, dt: float | None = None,
             backend: str = "numpy", overrides: dict | None = None) -> float:
    """Fraction of ``n`` walkers that survive a 100-ms trunk push of ``size`` N (positive forward)
    at random times in 3-4.5 s; ``overrides``: ``SemiImplicitEuler`` options other than tuned."""
    model = gs.build_model(batch_size=n)
    dt = tuned_dt(sol) if dt is None else dt
    walker, x0 = walker_from_solutions(model, sol, backend=backend)
    starts = np.random.default_rng(seed).uniform(3.0, 4.5, n)
    ctrl = gs.TrunkPush(walker, force=size, start=starts, duration=0.1)
    res = gs.simulate(model, ctrl, duration=duration, dt=dt, initial_state=x0, save=gs.SaveFinal(),
                      solver=tuned_solver(sol, backend, **(overrides or {})))
    return float(np.mean(res.status == 0))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("solution", nargs="?", default=None, help="tuned JSON (default: the shipped walker of --mode)")
    ap.add_argument("--mode", default="trunk_initiated", choices=["trunk_initiated", "geyer_herr"])
    ap.add_argument("--sizes", type=float, nargs="+", default=[0.0, 25.0, -25.0, 50.0, -50.0, 100.0, -100.0, 150.0],
                    help="push forces (N, positive forward)")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--duration", type=float, default=8.0)
    ap.add_argument("--backend", default="numpy", choices=["numpy", "numba"])
    ap.add_argument("--dt", type=float, default=None, help="integration step (s); default: the walker's tuned step")
    add_solver_arguments(ap)
    a = ap.parse_args(argv)
    sol = json.loads(Path(a.solution).read_text()) if a.solution else load_tuned(a.mode)
    print(f"{'push (N, 100 ms)':>18} {'impulse (N s)':>14} {'survival':>9}")
    for size in a.sizes:
        alive = survival(sol, size, a.n, a.duration, dt=a.dt, backend=a.backend,
                         overrides=solver_overrides(a))
        print(f"{size:>18.0f} {0.1 * size:>14.1f} {alive:>9.2f}", flush=True)


if __name__ == "__main__":
    main()
