"""Simulate a tuned controller and report gait measures against the walking issue's targets.

    python examples/evaluate_gait.py tuned.json [--duration 20] [--dt 2.5e-4]

Prints survival, speed, cadence, stance and double support %, stride-time CV over the last
strides, vertical GRF peaks and trough (BW), peak ankle push-off power (W/kg) and, when the
reference data folder ``../shared/reference`` is present, Pearson r and RMSE of hip, knee and
ankle angles against subject01's normalized right stride.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import gaitsim as gs
from gaitsim import analysis
from gaitsim.reflex import ReflexController
from gaitsim.walking_start import walking_state

REF = Path(__file__).resolve().parents[2] / "shared" / "reference" / "opensim_gait10dof18musc_subject01" / \
    "subject01_right_stride_normalized.csv"


def simulate_solution(sol: dict, duration: float, dt: float):
    model = gs.build_model()
    x0 = walking_state(model, speed=sol["start"]["speed"], pose_offsets=sol["start"]["pose_offsets"])
    ctrl = ReflexController(gains=sol["gains"], mode=sol["mode"], dt=dt)
    save = gs.SaveEvery(max(1, int(round(0.002 / dt))), ("q", "qdot", "grf", "muscle_moment", "activation"))
    return model, gs.simulate(model, ctrl, duration=duration, dt=dt, initial_state=x0, save=save)


def report(model, res) -> dict:
    bw = float(model.body_weight[0])
    mass = float(model.skeleton.mass_total[0])
    t = res.time
    fy_r, fy_l = res["grf"][0, :, 0, 1], res["grf"][0, :, 1, 1]
    out = {"status": res.status_text()[0], "simulated_s": float(t[-1])}
    out.update(analysis.spatiotemporal(t, res["q"][0, :, 0], fy_r, fy_l, bw, last_n=20))
    ev = analysis.gait_events(t, fy_r, bw)
    if ev.strikes.size >= 3:
        strikes = ev.strikes[-min(ev.strikes.size, 21):]
        grf = analysis.cycles(t, fy_r / bw, strikes)
        g, _ = analysis.mean_sd(grf)
        stance = g[: 65]
        first = int(np.argmax(stance[:35]))
        second = 35 + int(np.argmax(stance[35:65]))
        out["grf_peak1_bw"] = float(g[first])
        out["grf_peak2_bw"] = float(g[second])
        out["grf_trough_bw"] = float(g[first:second + 1].min()) if second > first else float("nan")
        ia = gs.COORDINATES.index("ankle_angle_r")
        power = res["muscle_moment"][0, :, ia] * res["qdot"][0, :, ia] / mass  # W/kg
        p, _ = analysis.mean_sd(analysis.cycles(t, power, strikes))
        out["ankle_pushoff_power_w_per_kg"] = float(p.max())
        out["ankle_pushoff_timing_pct"] = float(analysis.PERCENT[int(p.argmax())])
        from gaitsim.data.emg_onoff import ON_WINDOWS_PCT

        for stem, windows in ON_WINDOWS_PCT.items():
            name = {"iliopsoas": "psoas_r", "erector_spinae": "erector_spinae"}.get(stem, f"{stem}_r")
            act = res.muscle("activation", name)[0]
            prof, _ = analysis.mean_sd(analysis.cycles(t, act, strikes))
            out[f"emg_onoff_agreement_{stem}"] = analysis.onoff_agreement(prof, windows)
        if REF.exists():
            ref = np.genfromtxt(REF, delimiter=",", names=True, skip_header=1)
            angles = {"hip": ("hip_flexion_r", ref["hip_flexion_deg"], 1.0),
                      "knee": ("knee_angle_r", ref["knee_flexion_deg"], -1.0),
                      "ankle": ("ankle_angle_r", ref["ankle_dorsiflexion_deg"], 1.0)}
            for name, (coord, target, sign) in angles.items():
                sim = sign * np.degrees(analysis.mean_sd(analysis.cycles(t, res.coordinate(coord)[0], strikes))[0])
                out[f"{name}_r"] = float(np.corrcoef(sim, target)[0, 1])
                out[f"{name}_rmse_deg"] = float(np.sqrt(np.mean((sim - sim.mean() - (target - target.mean())) ** 2)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("solution")
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--dt", type=float, default=2.5e-4)
    a = ap.parse_args(argv)
    sol = json.loads(Path(a.solution).read_text())
    model, res = simulate_solution(sol, a.duration, a.dt)
    for k, v in report(model, res).items():
        print(f"{k:32s} {v:.4g}" if isinstance(v, float) else f"{k:32s} {v}")


if __name__ == "__main__":
    main()
