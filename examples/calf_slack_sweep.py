"""Sweep the soleus/gastrocnemius tendon slack length in one batch and report passive calf loads.

A "stiff calf" (plantarflexor contracture) is modelled as a shorter tendon slack length on an
unchanged path. Here each walker of one batch stands, held upright by stiff joint actuators,
with its own calf slack factor; the script prints, per walker, the passive calf tendon forces
and the ankle moment the calves exert at quiet stance. Usage:

    python examples/calf_slack_sweep.py [--duration 0.6] [--factors 1.0 0.97 0.94 0.91]
"""

from __future__ import annotations

import argparse

import numpy as np

import gaitsim as gs


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=0.6, help="simulated time (s)")
    ap.add_argument("--factors", type=float, nargs="+", default=[1.0, 0.97, 0.94, 0.91])
    a = ap.parse_args(argv)
    f = np.array(a.factors)
    model = gs.build_model(batch_size=f.size, scale={"muscle.tendon_slack_length.soleus_*": f,
                                                     "muscle.tendon_slack_length.gastroc_*": f})
    x0 = gs.initial_state(model, gs.standing_pose(model, 0.0))
    res = gs.simulate(model, gs.PoseHold(), duration=a.duration, initial_state=x0,
                      save=gs.SaveEvery(40, ("muscle_force", "muscle_moment", "grf")))
    sol = res.muscle("muscle_force", "soleus_r")[:, -1]
    gas = res.muscle("muscle_force", "gastroc_r")[:, -1]
    ankle = res["muscle_moment"][:, -1, gs.COORDINATES.index("ankle_angle_r")]
    print(f"{'slack factor':>12} {'soleus N':>9} {'gastroc N':>10} {'ankle muscle moment N m':>24}  status")
    for i in range(f.size):
        print(f"{f[i]:>12.2f} {sol[i]:>9.1f} {gas[i]:>10.1f} {ankle[i]:>24.2f}  {res.status_text()[i]}")
    return res


if __name__ == "__main__":
    main()
