"""Stiff calves: the Silfverskiold exam along severity, and push-off against the hip flexors.

    python examples/stiff_calves.py             # severities 0, 0.3, 0.6 (GAITSIM_QUICK=1: 4-s runs)
"""

import os

import numpy as np

import gaitsim as gs

duration = 4.0 if os.environ.get("GAITSIM_QUICK") == "1" else 20.0
scenarios = [gs.Scenario.preset("stiff_calves", s, name=f"stiff_calves@{s:g}") for s in (0.0, 0.3, 0.6)]
for s in scenarios:
    exam = s.exam()
    print(f"{s.name}: passive dorsiflexion {np.degrees(exam.dorsiflexion.range_extended[0]):.1f} deg knee extended, "
          f"{np.degrees(exam.dorsiflexion.range_flexed[0]):.1f} deg knee flexed")
measures = ["speed", "ankle_a2_peak_r", "plantarflexors_r_work_pos", "psoas_r_impulse_per_m", "hip_h3_work_r",
            "vasti_r_impulse_per_m", "glut_max_r_impulse_per_m", "hamstrings_r_impulse_per_m"]
print(gs.compare(scenarios, duration=duration).table(names=measures))
