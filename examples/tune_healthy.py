"""Tune a reflex controller for healthy walking with batched CMA-ES (resumable).

    python examples/tune_healthy.py --mode trunk_initiated --duration 5 --generations 100 \
        --popsize 24 --workers 2 --seed 1 --checkpoint tune_ti.pkl --out tuned_ti.json

Re-running the same command resumes from the checkpoint. The output JSON holds the best gains,
the start state and the provenance (objective, seed, generations, starting solution).

``--export-generation N`` (with the same flags and ``--checkpoint``) writes the best candidate of
generation N instead of tuning. ``--start-from tuned.json`` centres the search on an earlier
solution (its gains and start state) instead of the published defaults; ``--w-shape`` and
``--w-phase`` switch on the angle-shape and stance/double-support terms of
``gaitsim.optimize.Objective`` (and ``--w-hump``, ``--w-cadence``, ``--w-impact``, ``--w-emg``,
``--w-amplitude`` the others).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gaitsim.cli import add_solver_arguments, solver_overrides
from gaitsim.optimize import Objective, SearchSpace, save_solution, shift_posture, solution_from_checkpoint, tune


#: the objective's weights (``Objective.w_<term>``), each a ``--w-<term>`` option
WEIGHTS = {
    "grf": "weight of the GRF > 1.4 BW penalty",
    "speed": "weight of the speed error",
    "shape": "weight of the angle-shape term",
    "phase": "weight of the stance/DS term",
    "hump": "weight of the GRF double-hump term (peaks 1.0-1.35 BW, trough 0.1 below)",
    "cadence": "weight of the cadence-outside-95-125-steps/min term",
    "offset": "weight of the mean joint-angle offsets from the measured stride (per 10 deg)",
    "impact": "weight of the per-foot heel-strike peak term (above 1.25 BW on average, 1.5 BW at any)",
    "emg": "weight of the EMG on/off disagreement term (9 muscles)",
    "amplitude": "weight of the mean-cycle activation peaks above 0.5",
    "effort": "weight of the volume-weighted activation-cubed effort",
    "metabolic": "weight of the metabolic cost of transport at the target speed (Umberger 2010), per J/(kg m)",
    "lumbar": "weight of the per-stride lumbar compression peaks above 2.5 BW (Cappozzo 1984), per 0.1 BW",
    "regularity": "weight of the stride-time coefficient of variation, per percentage point",
}


def base_from_solution(path) -> dict:
    """Search centre from a tuned JSON: its gains plus ``start_speed`` and ``start_<coordinate>``."""
    sol = json.loads(Path(path).read_text())
    base = dict(sol["gains"])
    base["start_speed"] = sol["start"]["speed"]
    base.update({f"start_{k}": v for k, v in sol["start"]["pose_offsets"].items()})
    return base


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="trunk_initiated", choices=["geyer_herr", "trunk_initiated"])
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--speed", type=float, default=1.3)
    ap.add_argument("--generations", type=int, default=100)
    ap.add_argument("--popsize", type=int, default=24)
    ap.add_argument("--sigma", type=float, default=0.3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sample-every", type=int, default=Objective.sample_every, help="steps between cost samples")
    for term, help_text in WEIGHTS.items():
        ap.add_argument(f"--w-{term}", type=float, default=getattr(Objective, f"w_{term}"), help=help_text)
    ap.add_argument("--also-search", nargs="*", default=[], metavar="GAIN",
                    help="further gains to search besides the mode's default set (e.g. lumbar_ref)")
    ap.add_argument("--set-gain", nargs=2, action="append", default=[], metavar=("GAIN", "VALUE"),
                    help="centre a searched gain at VALUE instead of the starting solution's")
    ap.add_argument("--double-support-range", type=float, nargs=2, default=Objective.double_support_range,
                    metavar=("LOW", "HIGH"), help="%% of the cycle the stance/DS term aims double support into "
                    "(default: the issue's 8-14; a narrower range tunes with a margin)")
    ap.add_argument("--cadence-range", type=float, nargs=2, default=Objective.cadence_range,
                    metavar=("LOW", "HIGH"), help="steps/min the cadence term aims into (default 95-125)")
    ap.add_argument("--dt", type=float, default=Objective.dt, help="integration step (s)")
    ap.add_argument("--also-dt", type=float, nargs="*", default=[],
                    help="further integration steps (s) each candidate is scored at; its cost is the worst")
    ap.add_argument("--settle", type=float, default=Objective.settle,
                    help="seconds of start-up ignored by the shape and phase terms")
    ap.add_argument("--start-from", default=None, help="tuned JSON to centre the search on")
    ap.add_argument("--shift-posture", type=float, default=0.0, metavar="RAD",
                    help="centre the search on the starting solution's walker with RAD more lumbar flexion, "
                    "trunk and thighs kept in space (gaitsim.optimize.shift_posture; after --set-gain)")
    ap.add_argument("--backend", default="auto", choices=["auto", "numpy", "numba"],
                    help="numba: compiled kernels, several times faster per generation; auto: numba if it imports")
    add_solver_arguments(ap, default="the Objective's, as SemiImplicitEuler's")
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--out", default="tuned.json")
    ap.add_argument("--export-generation", type=int, default=None, metavar="N",
                    help="do not tune: write the best candidate of generation N of --checkpoint to --out")
    a = ap.parse_args(argv)
    objective = Objective(duration=a.duration, target_speed=a.speed, sample_every=a.sample_every, settle=a.settle,
                          dt=a.dt, also_dt=tuple(a.also_dt), backend=a.backend, **solver_overrides(a),
                          **{f"w_{term}": getattr(a, f"w_{term}") for term in WEIGHTS},
                          double_support_range=tuple(a.double_support_range), cadence_range=tuple(a.cadence_range))
    base = base_from_solution(a.start_from) if a.start_from else {}
    base.update({name: float(value) for name, value in a.set_gain})
    if a.shift_posture:
        base = shift_posture(base, a.shift_posture)
    default = SearchSpace(mode=a.mode).gains
    space = SearchSpace(mode=a.mode, base=base, gains=default + tuple(g for g in a.also_search if g not in default))
    if a.export_generation is not None:
        if not a.checkpoint or not Path(a.checkpoint).exists():
            raise SystemExit("--export-generation needs --checkpoint naming an existing tuning checkpoint")
        sol = solution_from_checkpoint(a.checkpoint, space, objective, generation=a.export_generation, seed=a.seed,
                                       popsize=a.popsize, sigma0=a.sigma)
        save_solution(sol, a.out)
        print(f"wrote the best of generation {a.export_generation} (cost {sol['provenance']['best_cost']:.3f}) "
              f"to {a.out}")
        return
    sol = tune(space, objective,
               generations=a.generations, popsize=a.popsize, sigma0=a.sigma, seed=a.seed,
               checkpoint=a.checkpoint, workers=a.workers, progress=lambda s: print(s, flush=True))
    save_solution(sol, a.out)
    print(f"best cost {sol['provenance']['best_cost']:.3f} at generation {sol['provenance']['best_generation']}; "
          f"wrote {a.out}")


if __name__ == "__main__":
    main()
