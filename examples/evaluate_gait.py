"""Simulate a tuned controller and report gait measures against the walking issue's targets.

    python examples/evaluate_gait.py tuned.json [more.json ...] [--duration 20] [--dt 5e-4]

Prints survival, speed, cadence, stance and double support %, stride-time CV over the last
strides, vertical GRF peaks and trough (BW), peak ankle push-off power (W/kg), EMG on/off
agreement, and Pearson r, offset-removed RMSE and range of hip, knee and ankle angles against the
measured stride shipped in ``gaitsim.data.reference_gait`` (OpenSim subject01, CC BY 3.0).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import gaitsim as gs
from gaitsim import analysis
from gaitsim.cli import add_solver_arguments, solver_overrides
from gaitsim.tuned import solver_options, tuned_dt, walker_from_solutions


def simulate_solutions(sols: list[dict], duration: float, dt: float, backend: str = "auto", options=None):
    """All candidate solutions (same mode) simulated as one batch; ``options``: further
    ``SemiImplicitEuler`` fields (default: SemiImplicitEuler's; ``main`` passes those the first solution
    was tuned with, ``gaitsim.tuned.solver_options``)."""
    model = gs.build_model(batch_size=len(sols))
    ctrl, x0 = walker_from_solutions(model, sols, backend=backend)
    save = gs.SaveEvery(max(1, int(round(0.002 / dt))), ("q", "qdot", "grf", "muscle_moment", "activation"))
    return model, gs.simulate(model, ctrl, duration=duration, dt=dt, initial_state=x0, save=save,
                              solver=gs.SemiImplicitEuler(backend=backend, **(options or {})))


def report(model, res, i: int = 0) -> dict:
    """Gait measures of walker ``i`` (last 20 strides)."""
    bw = float(model.body_weight[i])
    mass = float(model.skeleton.mass_total[i])
    t = res.time
    fy_r, fy_l = res["grf"][i, :, 0, 1], res["grf"][i, :, 1, 1]
    out = {"status": res.status_text()[i], "simulated_s": float(t[-1])}
    out.update(analysis.spatiotemporal(t, res["q"][i, :, 0], fy_r, fy_l, bw, last_n=20))
    ev = analysis.gait_events(t, fy_r, bw)
    if ev.strikes.size >= 3:
        strikes = ev.strikes[-min(ev.strikes.size, 21):]
        grf = analysis.cycles(t, fy_r / bw, strikes)
        g, _ = analysis.mean_sd(grf)
        out["grf_peak1_bw"], out["grf_peak2_bw"], out["grf_trough_bw"] = analysis.grf_double_hump(g)
        ia = gs.COORDINATES.index("ankle_angle_r")
        power = res["muscle_moment"][i, :, ia] * res["qdot"][i, :, ia] / mass  # W/kg
        p, _ = analysis.mean_sd(analysis.cycles(t, power, strikes))
        out["ankle_pushoff_power_w_per_kg"] = float(p.max())
        out["ankle_pushoff_timing_pct"] = float(analysis.PERCENT[int(p.argmax())])
        profiles = {stem: analysis.mean_sd(analysis.cycles(t, res.muscle("activation", muscle)[i], strikes))[0]
                    for stem, muscle in analysis.EMG_MUSCLES.items()}
        out.update({f"emg_onoff_agreement_{stem}": v for stem, v in analysis.emg_agreements(profiles).items()})
        out.update(analysis.angle_agreement(t, {"hip": res.coordinate("hip_flexion_r")[i],
                                                "knee": res.coordinate("knee_angle_r")[i],
                                                "ankle": res.coordinate("ankle_angle_r")[i]}, strikes))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("solutions", nargs="+", help="tuned JSON files (same controller mode), run as one batch")
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--dt", type=float, default=None, help="step (s); default: the first solution's tuned step")
    ap.add_argument("--backend", default="auto", choices=["auto", "numpy", "numba"])
    add_solver_arguments(ap, default="the first solution's tuning objective's")
    a = ap.parse_args(argv)
    sols = [json.loads(Path(p).read_text()) for p in a.solutions]
    # as the first solution was tuned, or the flags
    options = solver_options(sols[0], **solver_overrides(a))
    print("solver:", options)
    dt = tuned_dt(sols[0]) if a.dt is None else a.dt
    print(f"dt {dt * 1e3:g} ms")
    model, res = simulate_solutions(sols, a.duration, dt, a.backend, options)
    reports = [report(model, res, i) for i in range(len(sols))]
    print(f"{'measure':34s}" + "".join(f"{Path(p).stem[:14]:>16s}" for p in a.solutions))
    for k in reports[0]:
        cells = [r.get(k, float("nan")) for r in reports]
        print(f"{k:34s}" + "".join(f"{c:>16.4g}" if isinstance(c, float) else f"{str(c):>16s}" for c in cells))
    return reports


if __name__ == "__main__":
    main()
