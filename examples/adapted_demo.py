"""Adapted mode in small: re-tune the controller for weak dorsiflexors (3 seeds), then compare
acute and adapted walking with the optimizer's noise floor.

    python examples/adapted_demo.py             # a few minutes (GAITSIM_QUICK=1: seconds)

A real study uses more generations and longer candidates (examples/load_shift_study.py).
Adapted solutions are kept in $GAITSIM_CACHE/adapted (default ~/.cache/gaitsim).
"""

import os

import gaitsim as gs
from gaitsim.adapt import AdaptSettings, adapt

quick = os.environ.get("GAITSIM_QUICK") == "1"
settings = AdaptSettings(generations=1 if quick else 6, popsize=3 if quick else 8, seeds=(1, 2, 3),
                         objective=(("duration", 0.6 if quick else 6.0), ("also_dt", ()),
                                    ("settle", 0.3 if quick else 3.0)))
healthy, weak = gs.Scenario.preset("healthy"), gs.Scenario.preset("weak_dorsiflexors", 0.3)
adapt([healthy, weak], settings)  # both re-tuned with the same settings: a fair reference
measures = ["speed", "min_toe_clearance_r", "knee_flexion_peak_swing_r", "psoas_r_impulse_per_m",
            "tib_ant_r_mean_activation"]
duration = 3.5 if quick else 15.0
print("acute:\n" + gs.compare([healthy, weak], duration=duration).table(names=measures))
print("adapted:\n" + gs.compare([healthy, weak], duration=duration, mode="adapted").table(names=measures))
