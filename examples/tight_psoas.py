"""A tight psoas, structural and neural, at one severity: the exam, then where the load goes.

    python examples/tight_psoas.py [severity]   # default 0.6 (GAITSIM_QUICK=1: 4-s runs)
"""

import os
import sys

import gaitsim as gs

severity = float(sys.argv[1]) if len(sys.argv) > 1 else 0.6
duration = 4.0 if os.environ.get("GAITSIM_QUICK") == "1" else 20.0
short = gs.Scenario.preset("tight_psoas", severity)  # fewer sarcomeres: a positive Thomas test
tone = gs.Scenario.preset("psoas_tone", severity)  # 'stuck in contraction': raised resting excitation
print(short.exam().table())
measures = ["speed", "erector_spinae_impulse_per_m", "erector_spinae_mean_activation", "lumbar_extension_moment_peak",
            "lumbar_compression_peak_bw", "lumbar_shear_peak_anterior_bw", "psoas_compression_share", "pelvis_tilt_mean"]
print(gs.compare(["healthy", short, tone], duration=duration).table(names=measures))
