"""Every impairment preset against the healthy walker, with overlaid curves.

    python examples/comparison.py [severity]    # default 0.3 (GAITSIM_QUICK=1: 4-s runs)
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")

import gaitsim as gs  # noqa: E402

severity = float(sys.argv[1]) if len(sys.argv) > 1 else 0.3
duration = 4.0 if os.environ.get("GAITSIM_QUICK") == "1" else 20.0
names = ["healthy", "tight_psoas", "psoas_tone", "stiff_calves", "calf_reflex_loss", "weak_dorsiflexors"]
comparison = gs.compare(names, duration=duration, severity=severity)
print(comparison.table())
gs.plot.compare_curves(comparison).savefig("comparison.png", dpi=90)
print("wrote comparison.png")
