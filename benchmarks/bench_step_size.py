"""Step-size convergence of the walking model: stride metrics of one walker at several steps.

Usage:  python benchmarks/bench_step_size.py [--solution tuned.json] [--steps 5e-4 2.5e-4 1.25e-4 6.25e-5]
                                             [--seconds 20] [--backend numba] [--out bench_step_size.json]
                                             [--fiber-iterations 0] [--normal-contact explicit]
                                             [--mechanics-substeps 4]

The shipped healthy walker (or ``--solution``) is simulated for ``--seconds`` at each step size
(s). Reported per step: status, and over the strides after ``--settle`` s: speed, cadence, stride time,
stride length, stance and double-support %, and the relative difference (%) of each metric to
the next smaller step. The walking issue asks for stride metrics within 1 % of the half-step
run at the default step. ``--backend numba`` (default when installed) makes small steps cheap.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

METRICS = ("speed", "cadence", "stride_time", "stride_length", "stance_pct", "double_support_pct")


def stride_metrics(sol, dt: float, seconds: float, backend: str, settle: float = 2.0, options=None) -> dict:
    """Stride metrics of one walker simulated ``seconds`` at step ``dt`` (strides after ``settle`` s);
    ``options``: further ``SemiImplicitEuler`` fields (fiber_iterations, normal_contact)."""
    import gaitsim as gs
    from gaitsim import analysis
    from gaitsim.tuned import walker_from_solutions

    model = gs.build_model(batch_size=1)
    ctrl, x0 = walker_from_solutions(model, sol, backend=backend)
    every = max(1, int(round(0.001 / dt)))
    t0 = time.perf_counter()
    res = gs.simulate(model, ctrl, duration=seconds, dt=dt, initial_state=x0, save=gs.SaveEvery(every, ("q", "grf")),
                      solver=gs.SemiImplicitEuler(backend=backend, **(options or {})))
    wall = time.perf_counter() - t0
    keep = res.time >= settle
    out = analysis.spatiotemporal(res.time[keep], res["q"][0, keep, 0], res["grf"][0, keep, 0, 1],
                                  res["grf"][0, keep, 1, 1], float(model.body_weight[0]))
    out.update(dt=dt, status=res.status_text()[0], wall_s=wall)
    return out


def main(argv=None):
    from gaitsim.cli import add_solver_arguments, solver_overrides
    from gaitsim.compiled import available
    from gaitsim.tuned import load_tuned

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--solution", default=None)
    ap.add_argument("--steps", type=float, nargs="+", default=[5e-4, 2.5e-4, 1.25e-4, 6.25e-5])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--settle", type=float, default=2.0, help="strides before this time (s) are skipped")
    ap.add_argument("--backend", default="numba" if available() else "numpy", choices=["numpy", "numba"])
    add_solver_arguments(ap, default="what the walker was tuned with")
    ap.add_argument("--out", default="bench_step_size.json")
    a = ap.parse_args(argv)
    sol = json.loads(Path(a.solution).read_text()) if a.solution else load_tuned("trunk_initiated")
    from gaitsim.tuned import solver_options

    # as tuned, unless overridden
    options = solver_options(sol, **solver_overrides(a))
    print("solver:", options)
    rows = []
    for dt in sorted(a.steps, reverse=True):
        rows.append(stride_metrics(sol, dt, a.seconds, a.backend, a.settle, options))
        r = rows[-1]
        print(f"dt {dt * 1e3:8.4f} ms  {r['status']:>20s}  strides {r['strides']:3d}  " +
              "  ".join(f"{k} {r[k]:.4g}" for k in METRICS) + f"  ({r['wall_s']:.0f} s wall)", flush=True)
    print("relative difference to the next smaller step (%):")
    for big, small in zip(rows[:-1], rows[1:]):
        diff = {k: 100.0 * (big[k] - small[k]) / small[k] for k in METRICS}
        big["diff_to_half_pct"] = diff
        print(f"dt {big['dt'] * 1e3:8.4f} ms vs {small['dt'] * 1e3:.4f} ms: " +
              "  ".join(f"{k} {v:+.2f}" for k, v in diff.items()))
    summary = {"backend": a.backend, "seconds": a.seconds, "solver": options, "rows": rows}
    Path(a.out).write_text(json.dumps(summary, indent=2))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
