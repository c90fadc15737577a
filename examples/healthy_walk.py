"""Walk the shipped trunk-initiated walker, print its gait and loads, save a figure.

    python examples/healthy_walk.py            # 20 s (GAITSIM_QUICK=1: 4 s)
"""

import os

import matplotlib

matplotlib.use("Agg")

import gaitsim as gs  # noqa: E402

duration = 4.0 if os.environ.get("GAITSIM_QUICK") == "1" else 20.0
result = gs.Scenario.preset("healthy").run(duration=duration)
print(result.status)
print(result.measures.table(names=gs.measures.HEADLINE))
gs.plot.activations(result).savefig("healthy_activations.png", dpi=90)
gs.plot.joint_angles(result).savefig("healthy_joint_angles.png", dpi=90)
print("wrote healthy_activations.png, healthy_joint_angles.png")
