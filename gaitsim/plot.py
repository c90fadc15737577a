"""Matplotlib figures of results (degrees and body weights only at this edge).

Functions return the ``Figure`` and never call ``plt.show()``; left is red, right blue
(pyCGM2 / gaitutils convention).
"""

from __future__ import annotations

import numpy as np

SIDE_COLORS = {"r": "#3f00ff", "l": "#ff0000"}


def _plt():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        try:
            matplotlib.use("Agg")
        except Exception:  # pragma: no cover - interactive backends already in use
            pass
    import matplotlib.pyplot as plt

    return plt


def overview(res, body_weight, walker: int = 0):
    """Joint angles (deg), vertical ground force (BW) and pelvis height (m) against time (s)."""
    plt = _plt()
    fig, axes = plt.subplots(4, 1, figsize=(7, 9), sharex=True)
    t = res.time
    names = [("hip_flexion", "hip flexion (deg)"), ("knee_angle", "knee (deg)"), ("ankle_angle", "ankle (deg)")]
    for ax, (coord, label) in zip(axes[:3], names):
        for side in ("r", "l"):
            ax.plot(t, np.degrees(res.coordinate(f"{coord}_{side}")[walker]), color=SIDE_COLORS[side],
                    label=f"{side}")
        ax.set_ylabel(label)
    axes[0].legend(loc="best", fontsize=8)
    grf = res["grf"][walker, :, :, 1] / body_weight
    for i, side in enumerate(("r", "l")):
        axes[3].plot(t, grf[:, i], color=SIDE_COLORS[side], label=f"foot {side}")
    axes[3].plot(t, grf.sum(axis=1), color="k", lw=1, label="total")
    axes[3].set_ylabel("vertical GRF (BW)")
    axes[3].set_xlabel("time (s)")
    axes[3].legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig
