"""Command line: ``gaitsim run healthy|stand|drop [--duration S] [--batch N] [--out DIR]``.

``healthy``: the shipped tuned trunk-initiated reflex walker; the summary reports speed, cadence,
stance and double support and stride variability, and ``activations.png`` shows muscle activity
over the gait cycle against normative on/off windows. ``stand``: the model held upright by stiff
joint actuators settles on its feet; ``drop``: the same held model dropped from 2 cm. All write
``results.npz``, ``summary.json`` and ``overview.png`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import SemiImplicitEuler, build_model, initial_state, simulate, standing_pose
from .compiled import BACKENDS
from .control import PoseHold
from .integrate import DAMPING_THETA_RANGE, DEFAULT_DT, NORMAL_CONTACT, SOLVER_OPTIONS, SaveEvery
from .reflex import MODES


def add_solver_arguments(parser: argparse.ArgumentParser, default: str = "what the walker was tuned with") -> None:
    """The ``SemiImplicitEuler`` option flags (``--fiber-iterations``, ``--normal-contact``,
    ``--mechanics-substeps``, ``--damping-theta``), each None unless given; ``default`` says in the
    help what None stands for. ``solver_overrides`` collects them."""
    low, high = DAMPING_THETA_RANGE
    parser.add_argument("--fiber-iterations", type=int, default=None,
                        help=f"Newton iterations of a backward-Euler fibre step, 0: linearly implicit "
                             f"(default: {default})")
    parser.add_argument("--normal-contact", default=None, choices=list(NORMAL_CONTACT),
                        help=f"active_set: decide which contact spheres push with the end-of-step velocity; "
                             f"explicit: with the start-of-step one (default: {default})")
    parser.add_argument("--mechanics-substeps", type=int, default=None,
                        help=f"sub-steps of the skeleton and contact per --dt, muscles and controller once per "
                             f"--dt (default: {default})")
    parser.add_argument("--damping-theta", type=float, default=None,
                        help=f"where in a sub-step the damping forces take their speeds, in [{low}, {high}]: "
                             f"{high} backward Euler, {low} trapezoidal (default: {default})")


def solver_overrides(args: argparse.Namespace) -> dict:
    """The ``SemiImplicitEuler`` options given on the command line (``add_solver_arguments``)."""
    return {k: getattr(args, k) for k in SOLVER_OPTIONS if getattr(args, k, None) is not None}


SCENARIOS = {
    "healthy": {"duration": 8.0, "doc": "shipped tuned reflex walker (--controller trunk_initiated or geyer_herr)"},
    "stand": {"height_above_ground": 0.0, "duration": 1.5, "doc": "held upright, settles on its feet"},
    "drop": {"height_above_ground": 0.02, "duration": 1.0, "doc": "held upright, dropped from 2 cm"},
}


def _run(args) -> int:
    sc = SCENARIOS[args.scenario]
    duration = args.duration if args.duration is not None else sc["duration"]
    if args.scenario == "healthy" and not duration >= 2.0:
        raise ValueError(f"--duration of 'healthy' must be at least 2 s (its summary measures the strides after "
                         f"1 s), got {duration}")
    model = build_model(batch_size=args.batch, body_mass=args.body_mass, height=args.height)
    if args.scenario == "healthy":
        from .tuned import healthy_walker, load_tuned, tuned_dt, tuned_solver

        dt = tuned_dt(load_tuned(args.controller)) if args.dt is None else args.dt  # default: as tuned
        controller, x0 = healthy_walker(model, mode=args.controller, dt=dt, backend=args.backend)
        solver = tuned_solver(load_tuned(args.controller), args.backend, **solver_overrides(args))
    else:
        dt = DEFAULT_DT if args.dt is None else args.dt
        controller = PoseHold()
        x0 = initial_state(model, standing_pose(model, sc["height_above_ground"]))
        solver = SemiImplicitEuler(backend=args.backend, **solver_overrides(args))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    last = [0.0]

    def progress(done, total):
        if done - last[0] >= 0.1 * total or done >= total:
            last[0] = done
            print(f"  {done:6.2f} / {total:.2f} s simulated", flush=True)

    print(f"gaitsim run {args.scenario}: {sc['doc']}; {model.batch_size} walker(s), {duration} s, dt {dt} s")
    t0 = time.perf_counter()
    res = simulate(model, controller, duration=duration, dt=dt, initial_state=x0,
                   save=SaveEvery(max(1, int(round(0.002 / dt)))), progress=progress, solver=solver)
    wall = time.perf_counter() - t0
    bw = model.body_weight
    fy = res["grf"][:, :, :, 1].sum(axis=-1) / bw[:, None]  # (B, T) in body weights
    late = res.time > res.time[-1] - 0.25
    settled = res.time > (1.0 if args.scenario == "healthy" else 0.0)  # skip the walker's start-up step
    summary = {
        "scenario": args.scenario,
        "walkers": model.batch_size,
        "duration_s": duration,
        "dt_s": dt,
        "integrator": {k: getattr(solver, k) for k in SOLVER_OPTIONS},
        "wall_time_s": round(wall, 3),
        "status": res.status_text(),
        "peak_vertical_grf_bw": np.round(fy[:, settled].max(axis=1), 4).tolist(),
        "final_vertical_grf_bw": np.round(fy[:, late].mean(axis=1), 5).tolist(),
        "final_pelvis_height_m": np.round(res.coordinate("pelvis_ty")[:, -1], 4).tolist(),
    }
    if args.scenario == "healthy":
        from .analysis import spatiotemporal

        late = res.time > 1.0
        gait = [spatiotemporal(res.time[late], res["q"][i, late, 0], res["grf"][i, late, 0, 1],
                               res["grf"][i, late, 1, 1], bw[i]) for i in range(model.batch_size)]
        for key in ("speed", "cadence", "stance_pct", "double_support_pct", "stride_time_cv_pct"):
            summary[key] = [round(g[key], 3) for g in gait]
    res.save(out / "results.npz")
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    from .plot import overview

    overview(res, bw[0]).savefig(out / "overview.png", dpi=90)
    if args.scenario == "healthy":
        from .plot import activations

        activations(res, bw[0]).savefig(out / "activations.png", dpi=90)
    for k, v in summary.items():
        print(f"  {k}: {v}")
    print(f"  wrote {out / 'results.npz'}, {out / 'summary.json'}, {out / 'overview.png'}")
    return 0 if all(s == "ok" for s in summary["status"]) else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="gaitsim", description="gaitsim: batched sagittal walking simulator")
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="simulate a scenario and print a summary")
    run.add_argument("scenario", choices=sorted(SCENARIOS))
    run.add_argument("--duration", type=float, default=None, help="simulated time (s)")
    run.add_argument("--dt", type=float, default=None,
                     help=f"integration step (s) (default: healthy, the walker's tuned step; else {DEFAULT_DT})")
    run.add_argument("--batch", type=int, default=1, help="number of walkers")
    run.add_argument("--body-mass", type=float, default=75.0, help="kg")
    run.add_argument("--height", type=float, default=1.75, help="m")
    run.add_argument("--out", default="gaitsim_out", help="output folder")
    run.add_argument("--controller", default="trunk_initiated", choices=list(MODES),
                     help="healthy: which tuned reflex controller walks (trunk-initiated or leg-driven)")
    run.add_argument("--backend", default="numpy", choices=list(BACKENDS),
                     help="numba: compiled kernels (pip install 'gaitsim[fast]'), fastest for a few walkers")
    add_solver_arguments(run, default="healthy, what the walker was tuned with; else SemiImplicitEuler's")
    args = ap.parse_args(argv)
    try:
        return _run(args)
    except (ValueError, ImportError) as e:  # bad input or missing extra: one clear line, no traceback
        print(f"gaitsim: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
