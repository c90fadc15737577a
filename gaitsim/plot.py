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


def activations(res, body_weight, muscles=("soleus_r", "gastroc_r", "tib_ant_r", "psoas_r", "glut_max_r",
                                          "hamstrings_r", "vasti_r", "erector_spinae"), walker: int = 0):
    """Mean +/- SD activation over the right gait cycle (0-100 %), with normative on windows as grey bars."""
    from . import analysis
    from .data.emg_onoff import ON_WINDOWS_PCT

    plt = _plt()
    ev = analysis.gait_events(res.time, res["grf"][walker, :, 0, 1], body_weight)
    strikes = ev.strikes[1:]  # skip the start-up stride
    fig, axes = plt.subplots(len(muscles), 1, figsize=(6, 1.4 * len(muscles)), sharex=True)
    axes = np.atleast_1d(axes)
    for ax, name in zip(axes, muscles):
        cyc = analysis.cycles(res.time, res.muscle("activation", name)[walker], strikes)
        if cyc.shape[0] == 0:
            continue
        mean, sd = analysis.mean_sd(cyc)
        stem = "iliopsoas" if name.startswith(("psoas", "iliacus")) else name.rsplit("_", 1)[0]
        stem = name if name in ON_WINDOWS_PCT else stem
        for a, b in ON_WINDOWS_PCT.get(stem, []):
            ax.axvspan(a, b, color="#A0A0A0", alpha=0.5, lw=0)
        ax.fill_between(analysis.PERCENT, mean - sd, mean + sd, color=SIDE_COLORS["r"], alpha=0.3, lw=0)
        ax.plot(analysis.PERCENT, mean, color=SIDE_COLORS["r"])
        ax.set_ylabel(name, fontsize=8)
        ax.set_ylim(0, max(0.05, float((mean + sd).max()) * 1.1))
    axes[-1].set_xlabel("% of gait cycle (right heel strike to heel strike)")
    axes[-1].set_xlim(0, 100)
    fig.tight_layout()
    return fig
