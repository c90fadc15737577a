"""Matplotlib figures of results (degrees and body weights only at this edge).

Functions return the ``Figure`` and never call ``plt.show()``; left is red, right blue
(pyCGM2 / gaitutils convention).
"""

from __future__ import annotations

import numpy as np

SIDE_COLORS = {"r": "#3f00ff", "l": "#ff0000"}


def _plt():
    """matplotlib.pyplot, without touching the backend (the caller's, or a notebook's, stays)."""
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


#: what ``compare_curves`` can overlay: name -> (curve, index or None, label, factor, unit)
COMPARE_PANELS = {
    "hip": ("q", "hip_flexion_r", "hip flexion (right)", float(np.degrees(1.0)), "deg"),
    "knee": ("q", "knee_angle_r", "knee flexion (right)", -float(np.degrees(1.0)), "deg"),
    "ankle": ("q", "ankle_angle_r", "ankle dorsiflexion (right)", float(np.degrees(1.0)), "deg"),
    "hip_moment": ("joint_moment", "hip_flexion_r", "hip flexion moment (right)", 1.0, "N m"),
    "ankle_power": ("joint_power", "ankle_angle_r", "ankle power (right)", 1.0, "W"),
    "psoas": ("activation", "psoas_r", "psoas activation (right)", 1.0, "-"),
    "soleus": ("activation", "soleus_r", "soleus activation (right)", 1.0, "-"),
    "tib_ant": ("activation", "tib_ant_r", "tibialis anterior activation (right)", 1.0, "-"),
    "erector_spinae": ("activation", "erector_spinae", "erector spinae activation", 1.0, "-"),
    "lumbar_compression": ("lumbar_compression", None, "lumbar compression", None, "BW"),
    "grf": ("grf_y", 0, "vertical ground force (right foot)", None, "BW"),
}


def compare_curves(results, panels=("hip", "knee", "ankle", "psoas", "erector_spinae", "lumbar_compression"),
                   labels=None):
    """Mean curves over the right gait cycle (0-100 %, from ``measures.gait_measures``) of several
    scenario results overlaid, one panel per quantity (``COMPARE_PANELS``: joint angles in degrees
    with knee flexion positive, moments, powers, activations, lumbar compression and ground force
    in body weights). ``results``: ``ScenarioResult``s or a ``compare.Comparison``; a result with
    no measured stride is listed in the legend as such. Returns the Figure."""
    from .names import COORDINATES, MUSCLES

    items = getattr(results, "results", results)
    names = labels or getattr(results, "names", None) or [r.scenario.name for r in items]
    unknown = [p for p in panels if p not in COMPARE_PANELS]
    if unknown:
        raise ValueError(f"unknown panel(s) {unknown}; allowed: {', '.join(COMPARE_PANELS)}")
    plt = _plt()
    fig, axes = plt.subplots(len(panels), 1, figsize=(6.5, 1.9 * len(panels) + 0.6), sharex=True, squeeze=False)
    axes = axes[:, 0]
    pct = np.linspace(0.0, 100.0, 101)
    for ax, panel in zip(axes, panels):
        curve, index, label, factor, unit = COMPARE_PANELS[panel]
        for k, (name, r) in enumerate(zip(names, items)):
            m = r.measures
            if curve not in m.curves or int(m.n_strides[0]) == 0:
                ax.plot([], [], color=f"C{k}", label=f"{name} (no stride measured)")
                continue
            y = m.curves[curve][0]
            if isinstance(index, str):
                y = y[:, (MUSCLES if curve in ("activation", "muscle_force") else COORDINATES).index(index)]
            elif index is not None:
                y = y[:, index]
            scale = factor if factor is not None else 1.0 / float(r.model.body_weight[0])
            ax.plot(pct, y * scale, color=f"C{k}", lw=1.6 if k == 0 else 1.2, label=name)
        ax.set_ylabel(f"{label}\n({unit})", fontsize=8)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="best")
    axes[-1].set_xlabel("% of gait cycle (right heel strike to heel strike), mean over measured strides")
    axes[-1].set_xlim(0, 100)
    fig.tight_layout()
    return fig

