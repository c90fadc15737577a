"""Per-stride gait measures of a walking result: the one measures function of gaitsim.

``gait_measures(res, model)`` returns a ``GaitMeasures`` with, per walker, every measure per
stride (right heel strike to right heel strike, ``analysis.gait_events``/``stride_table``), its
mean and SD over the steady strides, its unit, and cycle-normalized mean curves (101 points).

Strides
-------
* the first ``skip`` seconds (start-up) are ignored;
* a walker that fell or diverged (``res.status``) counts only the strides completed at least one
  stride time (the median of its strides) before ``res.status_time``: the stride that ends
  just before a fall is usually the stumble into it; ``fell_at`` says when (NaN if it did not);
* only regular alternating strides count (``analysis.stride_table``).
Left-side measures come from the left strides (left heel strike to left heel strike), each
paired with the right stride in which it starts. ``_per_s`` and ``_per_m`` versions of the loads
(impulses, work, energy) divide by the right stride's time and by the pelvis's forward travel over
it; their ``mean`` is the sum over the measured strides divided by the summed stride time or
length (so a short or backward stride cannot dominate it); so is the ``mean`` of the metabolic
rates and costs of transport. ``_asym`` = 100 (right - left) / mean(|right|, |left|) %, per stride.

Conventions (SI inside; clinical signs only in ``table``)
---------------------------------------------------------
* net joint moment = muscle_moment + limit_moment (no other actuators in walking runs);
  joint power = net moment x joint angular velocity (``analysis.joint_power``), positive =
  generation; J/kg and W/kg divide by body mass;
* muscle work: fibre work = integral of tendon force x fibre shortening velocity (-v_ce; the
  model has no pennation, so fibre force = tendon force apart from the buffer element), positive
  while the fibre shortens; MTU work (hip flexors) uses the musculotendon shortening velocity
  (-d l_mtu/dt by central differences), i.e. the work the muscle does on the skeleton;
* lumbar compression/shear: ``loads.lumbar_load`` (trunk free body, lines of action documented
  there), qddot from central differences of the saved qdot; BW = body weight;
* metabolic: ``loads.metabolic_power`` (Umberger et al. 2003 / Umberger 2010) summed over the
  muscles, with and without the basal 1.2 W/kg (``loads.BASAL_RATE``); cost of transport =
  metabolic energy per stride / (body mass x stride length), J/(kg m).

Windows of the windowed measures (fractions of the stride; off = ipsilateral foot-off):
* hip flexion moment impulse "late stance + early swing": integral of the positive (flexing) net
  hip moment from mid-stance (half the stance time) to one third of swing after foot-off;
* H3: positive hip power (J/kg) from the contralateral heel strike to mid-swing (Winter 1991's
  H3, pull-off, spans pre-swing and initial swing);
* A2: peak ankle power (W/kg) in stance and its timing (% of the cycle) (Winter 1991, The
  Biomechanics and Motor Control of Human Gait, 2nd ed.: A2 is the push-off burst of late stance,
  the only large positive ankle power of the stride, so the stance maximum finds it);
* minimum toe clearance: lowest point of the ball contact sphere (centre height minus radius) in
  the middle half of swing;
* peak swing knee flexion and its timing: between foot-off and the next heel strike.

Trunk-initiation cascade (Gold's account of Rolf's walk, "foot, trunk, hip, knee, foot"), each in
% of the right stride from its heel strike (negative = before it):
* ``cascade_contra_pushoff_pct``: peak left ankle power within [-20 %, +30 %];
* ``cascade_trunk_lean_pct``: peak forward lean of the trunk (-(pelvis_tilt + lumbar)) in the
  first half of the stride;
* ``cascade_psoas_onset_pct``: right psoas activation first crossing, after the contralateral
  foot-off, min + ``PSOAS_ONSET_FRACTION`` (max - min) of its values in the stride;
* ``cascade_knee_flexion_pct``: peak right swing knee flexion;
* ``cascade_foot_off_pct`` (right foot-off) and the next heel strike at 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import analysis, loads
from .names import COORDINATES, MUSCLES, SIDES

#: fraction of its in-stride range at which the psoas activation counts as on (as
#: ``analysis.activation_on``'s default)
PSOAS_ONSET_FRACTION = 0.25
HIP_FLEXORS = ("psoas", "iliacus", "rect_fem")
LEG_MUSCLES_MEASURED = HIP_FLEXORS + ("glut_max", "hamstrings", "vasti", "soleus", "gastroc", "tib_ant")
TRUNK_MUSCLES = ("erector_spinae", "abdominals")
REQUIRED = ("q", "qdot", "activation", "muscle_force", "fiber_velocity", "fiber_length", "muscle_moment", "grf")

_CI = {c: i for i, c in enumerate(COORDINATES)}
_MI = {m: i for i, m in enumerate(MUSCLES)}


@dataclass(frozen=True)
class GaitMeasures:
    """Gait measures of a batch of B walkers (SI units; see the module docstring).

    per_stride: {name: (B, S) array}, NaN-padded (S = most strides of any walker).
    mean, sd: {name: (B,)} over each walker's strides (NaN without strides; sd 0 with one).
    units: {name: unit}. n_strides: (B,) right strides counted. status: (B,) ``res.status``.
    fell_at: (B,) s, time of the fall or divergence (NaN if none). stride_start, stride_end:
    (B, S) s. curves: {name: (B, 101, ...)} mean over strides of cycle-normalized signals (0-100 %
    of the right stride), with ``curve_units``. skip: s of start-up ignored.
    """

    per_stride: dict
    mean: dict
    sd: dict
    units: dict
    n_strides: np.ndarray
    status: np.ndarray
    fell_at: np.ndarray
    stride_start: np.ndarray
    stride_end: np.ndarray
    curves: dict = field(default_factory=dict)
    curve_units: dict = field(default_factory=dict)
    skip: float = 1.0

    @property
    def batch_size(self) -> int:
        return self.n_strides.shape[0]

    def value(self, name: str, walker: int = 0) -> float:
        """The mean of measure ``name`` for one walker (SI), NaN when the walker has no stride to
        measure (no walker of the batch had one: the measure is then absent from ``mean``)."""
        return float(self.mean[name][int(walker)]) if name in self.mean else float("nan")

    def to_dict(self, walker: int = 0) -> dict:
        """{name: {"mean", "sd", "unit", "per_stride"}} plus ``n_strides``, ``status``, ``fell_at``
        of one walker, as plain floats and lists (JSON-ready)."""
        i = int(walker)
        out = {"n_strides": int(self.n_strides[i]), "status": int(self.status[i]),
               "fell_at": float(self.fell_at[i]), "skip": float(self.skip)}
        for k in self.per_stride:
            v = self.per_stride[k][i]
            out[k] = {"mean": float(self.mean[k][i]), "sd": float(self.sd[k][i]), "unit": self.units[k],
                      "per_stride": [float(x) for x in v[: self.n_strides[i]]]}
        return out

    def table(self, walker: int = 0, names=None) -> str:
        """Text table (mean +/- SD) of one walker; angles in degrees, fractions in %, clinical
        signs (knee flexion positive) at this edge only."""
        i = int(walker)
        lines = [f"walker {i}: {self.n_strides[i]} strides after {self.skip:g} s"
                 + ("" if np.isnan(self.fell_at[i]) else f", fell at {self.fell_at[i]:.3f} s")]
        for k in (names or self.per_stride):
            factor, unit = display_unit(k, self.units[k])
            m, s = self.mean[k][i] * factor, self.sd[k][i] * factor
            lines.append(f"  {k:44s} {m:11.4g} +/- {s:9.3g}  {unit}")
        return "\n".join(lines)


def display_unit(name: str, unit: str) -> tuple[float, str]:
    """Factor and unit a table prints a measure with (degrees, %)."""
    if unit == "rad":
        return float(np.degrees(1.0)), "deg"
    if unit == "fraction":
        return 100.0, "%"
    return 1.0, unit


#: measures whose sign can change between scenarios (a mean moment or shear that may point either
#: way, the least compression of a stride): a change in % of a value near zero means nothing
SIGNED = frozenset({"lumbar_moment_mean", "lumbar_shear_mean_bw", "lumbar_shear_peak_anterior_bw",
                    "lumbar_shear_peak_posterior_bw", "lumbar_compression_min", "lumbar_compression_min_bw"})


def change_unit(name: str, unit: str) -> str:
    """The unit a change of measure ``name`` (SI ``unit``) from a reference is reported in: "%"
    (relative, for magnitudes: forces, impulses, work, speed) or, for measures without a true
    zero or that can change sign, the difference in the displayed unit: "deg" for angles (a
    pelvis tilt near 0 deg would otherwise change by thousands of %), "pp" (percentage points)
    for % of the gait cycle, asymmetries and shares, the unit itself for ``SIGNED`` measures."""
    if unit in ("rad", "%", "fraction") or name in SIGNED:
        shown = display_unit(name, unit)[1]
        return "pp" if shown == "%" else shown
    return "%"


# --- helpers over sample windows ---------------------------------------------------------------


def _window_extreme(t, y, lo, hi, mode: str = "max") -> tuple[np.ndarray, np.ndarray]:
    """Per window [lo_k, hi_k] (s): the max (or min) of samples y (T,) and its time; NaN if empty."""
    val, at = np.full(len(lo), np.nan), np.full(len(lo), np.nan)
    for k, (a, b) in enumerate(zip(lo, hi)):  # a loop over strides
        m = (t >= a) & (t <= b)
        if not np.isfinite(a) or not np.isfinite(b) or not m.any():
            continue
        idx = np.flatnonzero(m)
        j = idx[np.argmax(y[idx]) if mode == "max" else np.argmin(y[idx])]
        val[k], at[k] = y[j], t[j]
    return val, at


def _first_upward_crossing(t, y, start, end, search_from, fraction) -> np.ndarray:
    """Per stride: first time in [search_from, end] where y rises through min + fraction (max - min)
    of y over [start, end] (linear interpolation between samples); NaN if none."""
    out = np.full(len(start), np.nan)
    for k, (a, b, s) in enumerate(zip(start, end, search_from)):
        m = (t >= a) & (t <= b)
        if m.sum() < 2 or not np.isfinite(s):
            continue
        lo, hi = y[m].min(), y[m].max()
        thr = lo + fraction * (hi - lo)
        idx = np.flatnonzero((t >= s) & (t <= b))
        idx = idx[idx > 0]
        up = idx[(y[idx - 1] < thr) & (y[idx] >= thr)]
        if up.size:
            j = up[0]
            out[k] = t[j - 1] + (thr - y[j - 1]) / (y[j] - y[j - 1]) * (t[j] - t[j - 1])
    return out


def _pct(time, start, dur):
    return 100.0 * (time - start) / dur


# --- per-walker series --------------------------------------------------------------------------


def _series(res, model, qddot_method: str = "difference") -> dict:
    """Batched (B, T, ...) signals every measure draws on."""
    t = res.time
    missing = [f for f in REQUIRED if f not in res.data]
    if missing:
        raise KeyError(f"gait_measures needs the fields {missing} saved (save=SaveEvery(n) saves all); "
                       f"available: {', '.join(res.data)}")
    q, qdot = res["q"], res["qdot"]
    lim = res["limit_moment"] if "limit_moment" in res.data else 0.0
    moment = res["muscle_moment"] + lim
    if qddot_method == "difference":
        qddot = np.gradient(qdot, t, axis=1)  # second-order central differences (loads docstring)
    elif qddot_method == "dynamics":
        if "contact_force" not in res.data:
            raise KeyError("qddot_method='dynamics' needs the field 'contact_force' saved")
        qddot = loads.skeleton_accelerations(q, qdot, moment, res["contact_force"], model)
    else:
        raise ValueError(f"qddot_method must be 'difference' or 'dynamics', got {qddot_method!r}")
    force = res["muscle_force"]
    parts = loads.lumbar_load_parts(q, qdot, qddot, force, model)
    comp = sum(p[0] for p in parts.values())
    shear = sum(p[1] for p in parts.values())
    out = {"q": q, "qdot": qdot, "moment": moment, "power": analysis.joint_power(moment, qdot),
           "force": force, "activation": res["activation"],
           "fibre_power": force * -res["fiber_velocity"],
           "compression": comp, "shear": shear, "psoas_compression": parts["psoas_r"][0] + parts["psoas_l"][0],
           "body_compression": parts["body"][0], "erector_spinae_compression": parts["erector_spinae"][0],
           "abdominals_compression": parts["abdominals"][0],
           "metabolic": loads.metabolic_power(res.data, model).sum(axis=-1), "grf_y": res["grf"][..., 1]}
    if "mtu_length" in res.data:
        out["mtu_power"] = force * -np.gradient(res["mtu_length"], t, axis=1)
    return out


def _ball_heights(model, q) -> np.ndarray:
    """(B, T, 2 legs) height (m) of the bottom of each ball contact sphere."""
    from .model import select_walkers
    from .state import sphere_kinematics

    out = np.empty(q.shape[:2] + (2,))
    heel_x = np.empty(q.shape[:2] + (2,))
    for i in range(q.shape[0]):  # per walker: each has its own sphere geometry
        mi = select_walkers(model, i)
        pos, _ = sphere_kinematics(mi, q[i].T)  # (2 xy, 2 legs, 2 spheres, T)
        out[i] = (pos[1, :, 1] - mi.contact.radius[:, 1]).T
        heel_x[i] = pos[0, :, 0].T
    return out, heel_x


# --- measures of one side over its own strides ---------------------------------------------------


def _side_measures(t, sig, i, side, rows, body_mass, ball_h, heel_x) -> dict:
    """{name: ((S_side,) values, unit)} of one side's strides ``rows`` (analysis.stride_table)."""
    s = side
    other = "l" if s == "r" else "r"
    a = np.array([r["start"] for r in rows])
    b = np.array([r["end"] for r in rows])
    dur = b - a
    off = a + np.array([r["stance_pct"] for r in rows]) / 100.0 * dur
    o_strike = a + np.array([r["opposite_strike_pct"] for r in rows]) / 100.0 * dur
    swing = b - off
    out = {}
    for m in LEG_MUSCLES_MEASURED:
        k = _MI[f"{m}_{s}"]
        f = sig["force"][i, :, k]
        out[f"{m}_{s}_impulse"] = (loads.interval_integral(t, f, a, b), "N s")
        wp, wn = loads.positive_negative_work(t, sig["fibre_power"][i, :, k], a, b)
        out[f"{m}_{s}_work_pos"], out[f"{m}_{s}_work_neg"] = (wp, "J"), (wn, "J")
        out[f"{m}_{s}_peak_force"] = (_window_extreme(t, f, a, b)[0], "N")
        out[f"{m}_{s}_mean_activation"] = (loads.interval_integral(t, sig["activation"][i, :, k], a, b) / dur, "-")
        if m in HIP_FLEXORS and "mtu_power" in sig:
            wp, wn = loads.positive_negative_work(t, sig["mtu_power"][i, :, k], a, b)
            out[f"{m}_{s}_mtu_work_pos"], out[f"{m}_{s}_mtu_work_neg"] = (wp, "J"), (wn, "J")
    out[f"plantarflexors_{s}_work_pos"] = (out[f"soleus_{s}_work_pos"][0] + out[f"gastroc_{s}_work_pos"][0], "J")
    ih, ik, ia = _CI[f"hip_flexion_{s}"], _CI[f"knee_angle_{s}"], _CI[f"ankle_angle_{s}"]
    hip_m = sig["moment"][i, :, ih]
    late0, early1 = a + 0.5 * (off - a), off + swing / 3.0
    out[f"hip_flexion_moment_impulse_{s}"] = (loads.interval_integral(t, np.maximum(hip_m, 0.0), late0, early1),
                                              "N m s")
    out[f"hip_h3_work_{s}"] = (loads.positive_negative_work(t, sig["power"][i, :, ih], o_strike,
                                                            off + 0.5 * swing)[0] / body_mass, "J/kg")
    a2, a2_t = _window_extreme(t, sig["power"][i, :, ia], a, off)
    out[f"ankle_a2_peak_{s}"] = (a2 / body_mass, "W/kg")
    out[f"ankle_a2_timing_{s}"] = (_pct(a2_t, a, dur), "%")
    q = sig["q"][i]
    out[f"hip_extension_peak_{s}"] = (-_window_extreme(t, q[:, ih], a, b, "min")[0], "rad")
    kf, kf_t = _window_extreme(t, -q[:, ik], off, b)
    out[f"knee_flexion_peak_swing_{s}"] = (kf, "rad")
    out[f"knee_flexion_peak_swing_timing_{s}"] = (_pct(kf_t, a, dur), "%")
    leg = SIDES.index(s)
    out[f"min_toe_clearance_{s}"] = (_window_extreme(t, ball_h[i, :, leg], off + 0.25 * swing,
                                                     off + 0.75 * swing, "min")[0], "m")
    out[f"stance_pct_{s}"] = (100.0 * (off - a) / dur, "%")
    out[f"step_length_{s}"] = (np.interp(a, t, heel_x[i, :, leg]) - np.interp(a, t, heel_x[i, :, SIDES.index(other)]),
                               "m")
    return out


def _align(values: np.ndarray, side_start: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Values of left strides re-indexed to the right strides they start in (NaN where none)."""
    out = np.full(a.shape, np.nan)
    for k in range(a.size):
        j = np.flatnonzero((side_start > a[k]) & (side_start < b[k]))
        if j.size:
            out[k] = values[j[0]]
    return out


# --- whole-body measures over the right strides -------------------------------------------------


def _body_measures(t, sig, i, rows, body_mass, bw, ds1) -> dict:
    a = np.array([r["start"] for r in rows])
    b = np.array([r["end"] for r in rows])
    dur = b - a
    q = sig["q"][i]
    length = np.interp(b, t, q[:, 0]) - np.interp(a, t, q[:, 0])
    out = {"stride_time": (dur, "s"), "stride_length": (length, "m"), "speed": (length / dur, "m/s"),
           "cadence": (120.0 / dur, "steps/min"),
           "double_support_pct": (np.array([(r["double_support_1_pct"] + r["double_support_2_pct"]) / 2
                                            for r in rows]), "%"),
           "double_support_1_pct": (np.array([r["double_support_1_pct"] for r in rows]), "%"),
           "double_support_2_pct": (np.array([r["double_support_2_pct"] for r in rows]), "%")}
    tilt = q[:, _CI["pelvis_tilt"]]
    hi, lo = _window_extreme(t, tilt, a, b)[0], _window_extreme(t, tilt, a, b, "min")[0]
    out["pelvis_tilt_mean"] = (loads.interval_integral(t, tilt, a, b) / dur, "rad")
    out["pelvis_tilt_range"] = (hi - lo, "rad")
    for m in TRUNK_MUSCLES:
        k = _MI[m]
        out[f"{m}_impulse"] = (loads.interval_integral(t, sig["force"][i, :, k], a, b), "N s")
        out[f"{m}_mean_activation"] = (loads.interval_integral(t, sig["activation"][i, :, k], a, b) / dur, "-")
        out[f"{m}_peak_force"] = (_window_extreme(t, sig["force"][i, :, k], a, b)[0], "N")
        wp, wn = loads.positive_negative_work(t, sig["fibre_power"][i, :, k], a, b)
        out[f"{m}_work_pos"], out[f"{m}_work_neg"] = (wp, "J"), (wn, "J")
    lm = sig["moment"][i, :, _CI["lumbar"]]
    out["lumbar_moment_mean"] = (loads.interval_integral(t, lm, a, b) / dur, "N m")
    out["lumbar_extension_moment_peak"] = (_window_extreme(t, lm, a, b)[0], "N m")
    out["lumbar_extension_moment_impulse"] = (loads.interval_integral(t, np.maximum(lm, 0.0), a, b), "N m s")
    comp, shear, pc = sig["compression"][i], sig["shear"][i], sig["psoas_compression"][i]
    c_imp = loads.interval_integral(t, comp, a, b)
    c_peak, c_peak_t = _window_extreme(t, comp, a, b)
    out["lumbar_compression_impulse"] = (c_imp, "N s")
    out["lumbar_compression_peak"] = (c_peak, "N")
    out["lumbar_compression_mean"] = (c_imp / dur, "N")
    out["lumbar_compression_min"] = (_window_extreme(t, comp, a, b, "min")[0], "N")
    out["lumbar_compression_peak_bw"] = (c_peak / bw, "BW")
    out["lumbar_compression_mean_bw"] = (c_imp / dur / bw, "BW")
    out["lumbar_compression_min_bw"] = (out["lumbar_compression_min"][0] / bw, "BW")
    out["lumbar_compression_peak_timing"] = (_pct(c_peak_t, a, dur), "%")
    out["lumbar_shear_mean_bw"] = (loads.interval_integral(t, shear, a, b) / dur / bw, "BW")
    out["lumbar_shear_peak_anterior_bw"] = (_window_extreme(t, shear, a, b)[0] / bw, "BW")
    out["lumbar_shear_peak_posterior_bw"] = (_window_extreme(t, shear, a, b, "min")[0] / bw, "BW")
    out["psoas_compression_share"] = (loads.interval_integral(t, pc, a, b) / c_imp, "fraction")
    out["psoas_compression_share_at_peak"] = (np.interp(c_peak_t, t, pc) / c_peak, "fraction")
    for part in ("body", "erector_spinae", "abdominals"):  # the rest of the compression, by cause
        out[f"{part}_compression_share"] = (loads.interval_integral(t, sig[f"{part}_compression"][i], a, b) / c_imp,
                                            "fraction")
    energy = loads.interval_integral(t, sig["metabolic"][i], a, b)
    out["metabolic_energy"] = (energy, "J")
    out["metabolic_rate"] = (energy / dur / body_mass, "W/kg")
    out["metabolic_rate_with_basal"] = (energy / dur / body_mass + loads.BASAL_RATE, "W/kg")
    out["cost_of_transport"] = (energy / (body_mass * length), "J/(kg m)")
    out["cost_of_transport_with_basal"] = ((energy + loads.BASAL_RATE * body_mass * dur) / (body_mass * length),
                                           "J/(kg m)")
    # trunk-initiation cascade
    off = a + np.array([r["stance_pct"] for r in rows]) / 100.0 * dur
    o_off = a + ds1 / 100.0 * dur
    lean = -(q[:, _CI["pelvis_tilt"]] + q[:, _CI["lumbar"]])
    out["cascade_contra_pushoff_pct"] = (_pct(_window_extreme(t, sig["power"][i, :, _CI["ankle_angle_l"]],
                                                              a - 0.2 * dur, a + 0.3 * dur)[1], a, dur), "%")
    out["cascade_trunk_lean_pct"] = (_pct(_window_extreme(t, lean, a, a + 0.5 * dur)[1], a, dur), "%")
    out["cascade_psoas_onset_pct"] = (_pct(_first_upward_crossing(t, sig["activation"][i, :, _MI["psoas_r"]], a, b,
                                                                   o_off, PSOAS_ONSET_FRACTION), a, dur), "%")
    out["cascade_knee_flexion_pct"] = (_pct(_window_extreme(t, -q[:, _CI["knee_angle_r"]], off, b)[1], a, dur), "%")
    out["cascade_foot_off_pct"] = (_pct(off, a, dur), "%")
    out["cascade_trunk_lean_peak"] = (_window_extreme(t, lean, a, a + 0.5 * dur)[0], "rad")
    return out


#: unit of a load per second, from its unit per stride
_PER_SECOND = {"N s": "N", "J": "W", "N m s": "N m"}


def _is_load(name: str, unit: str) -> bool:
    """Whether a measure is a load also reported per second and per metre."""
    return unit in _PER_SECOND and not name.endswith("_asym")


def counted_strides(time, grf_y, body_weight: float, skip: float, alive_until: float = np.inf) -> tuple[list, list]:
    """The strides the measures count (module docstring, "Strides"): ``analysis.stride_table`` rows
    of the right and of the left side after ``skip`` s, ending at least one median stride time
    before ``alive_until`` (s; the fall, or inf). time (T,) s; grf_y (T, 2 legs) vertical force, N."""
    t = np.asarray(time, float)
    keep = (t >= skip) & (t < alive_until)
    if keep.sum() < 10:
        return [], []
    tt = t[keep]
    ev = {s: analysis.gait_events(tt, np.asarray(grf_y)[keep, k], body_weight) for k, s in enumerate(SIDES)}
    rows_r = analysis.stride_table(ev["r"], ev["l"])
    rows_l = analysis.stride_table(ev["l"], ev["r"])
    if rows_r and np.isfinite(alive_until):  # the stride ending within a stride time of a fall: the stumble
        guard = alive_until - float(np.median([r["end"] - r["start"] for r in rows_r]))
        rows_r = [r for r in rows_r if r["end"] <= guard]
        rows_l = [r for r in rows_l if r["end"] <= guard]
    return rows_r, rows_l


def _walker(t, sig, i, model, skip, alive_until, ball_h, heel_x) -> tuple[dict, dict, np.ndarray, dict]:
    """Per-stride measures {name: (S,)}, units, (2, S) stride bounds and curves of walker i."""
    bw = float(model.body_weight[i])
    body_mass = float(model.skeleton.mass_total[i])
    rows_r, rows_l = counted_strides(t, sig["grf_y"][i], bw, skip, alive_until)
    if not rows_r:
        return {}, {}, np.empty((2, 0)), {}
    a = np.array([r["start"] for r in rows_r])
    b = np.array([r["end"] for r in rows_r])
    ds1 = np.array([r["double_support_1_pct"] for r in rows_r])
    vals = {}
    units = {}
    for name, (v, u) in _body_measures(t, sig, i, rows_r, body_mass, bw, ds1).items():
        vals[name], units[name] = v, u
    for name, (v, u) in _side_measures(t, sig, i, "r", rows_r, body_mass, ball_h, heel_x).items():
        vals[name], units[name] = v, u
    if rows_l:
        l_start = np.array([r["start"] for r in rows_l])
        for name, (v, u) in _side_measures(t, sig, i, "l", rows_l, body_mass, ball_h, heel_x).items():
            vals[name], units[name] = _align(v, l_start, a, b), u
    for name in [n for n in vals if n.endswith("_r") or "_r_" in n]:
        base_l = _swap_side(name)
        if base_l in vals:
            r, l = vals[name], vals[base_l]
            asym = _asym_name(name)
            vals[asym] = 100.0 * (r - l) / (0.5 * (np.abs(r) + np.abs(l)))
            units[asym] = "%"
    for name in [n for n in vals if _is_load(n, units[n])]:
        vals[f"{name}_per_s"], units[f"{name}_per_s"] = vals[name] / vals["stride_time"], _PER_SECOND[units[name]]
        vals[f"{name}_per_m"], units[f"{name}_per_m"] = vals[name] / vals["stride_length"], units[name] + "/m"
    return vals, units, np.stack([a, b]), _curves(t, sig, i, a, b, bw)


def _swap_side(name: str) -> str:
    return name[:-2] + "_l" if name.endswith("_r") else name.replace("_r_", "_l_", 1)


def _asym_name(name: str) -> str:
    return (name[:-2] if name.endswith("_r") else name.replace("_r_", "_", 1)) + "_asym"


CURVE_UNITS = {"activation": "-", "q": "m | rad", "joint_moment": "N | N m", "joint_power": "W",
               "muscle_force": "N", "lumbar_compression": "N", "lumbar_shear": "N",
               "psoas_lumbar_compression": "N", "grf_y": "N"}


def _curves(t, sig, i, a, b, bw) -> dict:
    """Mean over the strides [a_k, b_k] of cycle-normalized signals (101, ...)."""
    strikes = np.append(a, b[-1])
    src = {"activation": sig["activation"][i], "q": sig["q"][i], "joint_moment": sig["moment"][i],
           "joint_power": sig["power"][i], "muscle_force": sig["force"][i],
           "lumbar_compression": sig["compression"][i], "lumbar_shear": sig["shear"][i],
           "psoas_lumbar_compression": sig["psoas_compression"][i], "grf_y": sig["grf_y"][i]}
    out = {}
    for name, y in src.items():
        cyc = np.stack([analysis.normalize_cycle(t, y, s, e) for s, e in zip(a, b)])
        out[name] = cyc.mean(axis=0)
    return out


def gait_measures(res, model, *, skip: float = 1.0, qddot_method: str = "difference") -> GaitMeasures:
    """Per-stride gait, load and energy measures of every walker of a walking result.

    res: ``Results`` with at least the fields ``REQUIRED`` saved (``SaveEvery(n)`` saves all;
    ``limit_moment``, ``excitation`` and ``mtu_length`` are used when present). model: the model
    simulated (for body mass, torso and muscle parameters). skip: s of start-up ignored.
    qddot_method: how the coordinate accelerations of the lumbar free body are obtained:
    ``"difference"`` (default), central differences of the saved qdot, i.e. of the motion that
    was integrated (impacts smeared over one saved interval); ``"dynamics"``, recomputed from the
    saved forces by the skeleton's equations of motion (``loads.skeleton_accelerations``; needs
    ``contact_force``; omits the integrator's implicit damping correction). On the shipped walker
    the two give mean and peak compression within 0.1 %.
    Returns a ``GaitMeasures`` (module docstring for strides, conventions and windows).
    """
    t = np.asarray(res.time, float)
    sig = _series(res, model, qddot_method)
    ball_h, heel_x = _ball_heights(model, sig["q"])
    nb = res.batch_size
    status = np.asarray(res.status).copy()
    fell_at = np.where(status != 0, np.asarray(res.status_time, float), np.nan)
    alive_until = np.where(status != 0, fell_at, np.inf)
    per_walker = [_walker(t, sig, i, model, skip, alive_until[i], ball_h, heel_x) for i in range(nb)]
    units = {}
    for _, u, _, _ in per_walker:
        for k, v in u.items():
            units.setdefault(k, v)
    n_str = np.array([bounds.shape[1] for _, _, bounds, _ in per_walker], dtype=int)
    width = max(1, int(n_str.max(initial=0)))
    per_stride = {k: np.full((nb, width), np.nan) for k in units}
    starts, ends = np.full((nb, width), np.nan), np.full((nb, width), np.nan)
    for i, (vals, _, bounds, _) in enumerate(per_walker):
        starts[i, : n_str[i]], ends[i, : n_str[i]] = bounds
        for k, v in vals.items():
            per_stride[k][i, : n_str[i]] = v
    mean, sd = {}, {}
    for k, v in per_stride.items():
        mean[k], sd[k] = _nan_mean_sd(v)
    for k in per_stride:  # per metre / per second over all measured strides: ratio of sums, so that a
        # short or backward stride (an impaired walker's) cannot blow the mean up; SD stays per stride
        for suffix, denominator in (("_per_m", "stride_length"), ("_per_s", "stride_time")):
            if k.endswith(suffix) and k[: -len(suffix)] in per_stride:
                num, den = per_stride[k[: -len(suffix)]], per_stride[denominator]
                ok = np.isfinite(num) & np.isfinite(den)
                total = np.where(ok, den, 0.0).sum(axis=1)
                mean[k] = np.where(ok.any(axis=1) & (total != 0), np.where(ok, num, 0.0).sum(axis=1)
                                   / np.where(total != 0, total, 1.0), np.nan)
    if "metabolic_energy" in per_stride:  # energy rates and costs as ratios of sums too
        energy, length, duration = (per_stride[k] for k in ("metabolic_energy", "stride_length", "stride_time"))
        ok = np.isfinite(energy) & np.isfinite(length) & np.isfinite(duration)
        e, d, l_ = (np.where(ok, v, 0.0).sum(axis=1) for v in (energy, duration, length))
        mass = np.asarray(model.skeleton.mass_total, float)
        valid = ok.any(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean["metabolic_rate"] = np.where(valid, e / d / mass, np.nan)
            mean["metabolic_rate_with_basal"] = mean["metabolic_rate"] + loads.BASAL_RATE
            mean["cost_of_transport"] = np.where(valid, e / (mass * l_), np.nan)
            mean["cost_of_transport_with_basal"] = np.where(valid, (e + loads.BASAL_RATE * mass * d) / (mass * l_),
                                                            np.nan)
    curves = {}
    for name in CURVE_UNITS:
        shapes = [c[name].shape for _, _, _, c in per_walker if name in c]
        if not shapes:
            continue
        arr = np.full((nb,) + shapes[0], np.nan)
        for i, (_, _, _, c) in enumerate(per_walker):
            if name in c:
                arr[i] = c[name]
        curves[name] = arr
    return GaitMeasures(per_stride=per_stride, mean=mean, sd=sd, units=units, n_strides=n_str, status=status,
                        fell_at=fell_at, stride_start=starts, stride_end=ends, curves=curves,
                        curve_units={k: CURVE_UNITS[k] for k in curves}, skip=float(skip))


def _nan_mean_sd(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD (ddof 1; 0 for one value; NaN for none) over axis 1 ignoring NaN."""
    n = np.isfinite(v).sum(axis=1)
    total = np.where(np.isfinite(v), v, 0.0).sum(axis=1)
    mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
    dev = np.where(np.isfinite(v), v - mean[:, None], 0.0)
    var = (dev**2).sum(axis=1) / np.maximum(n - 1, 1)
    sd = np.where(n > 1, np.sqrt(var), np.where(n == 1, 0.0, np.nan))
    return mean, sd


#: headline measures of ``GaitMeasures.table(names=HEADLINE)``
HEADLINE = ("speed", "cadence", "stride_length", "stance_pct_r", "double_support_pct",
            "lumbar_compression_peak_bw", "lumbar_compression_mean_bw", "lumbar_shear_peak_anterior_bw",
            "psoas_compression_share", "psoas_r_impulse", "psoas_r_impulse_per_m", "iliacus_r_impulse",
            "iliacus_r_impulse_per_m", "erector_spinae_impulse", "erector_spinae_impulse_per_m",
            "hip_flexion_moment_impulse_r", "hip_h3_work_r", "ankle_a2_peak_r", "ankle_a2_timing_r",
            "metabolic_rate", "metabolic_rate_with_basal", "cost_of_transport", "cost_of_transport_with_basal",
            "cascade_contra_pushoff_pct", "cascade_trunk_lean_pct", "cascade_psoas_onset_pct",
            "cascade_knee_flexion_pct")

__all__ = ["GaitMeasures", "counted_strides", "gait_measures", "HEADLINE", "PSOAS_ONSET_FRACTION", "REQUIRED"]


def fall_causes(res, model) -> list[str]:
    """One line per walker saying how it failed ('' while it walks): when, which way the trunk
    pitched (its absolute lean from vertical at the last sample before the fall, forward positive),
    how fast the pelvis moved forward, and whether a swing foot scuffed in the last 0.5 s before it
    (ball sphere lower than 2 mm while its other foot was the one loaded). A description of the
    state at the fall, not an inference of its mechanism. The 0.5-s look-back, the 2-mm height and
    the 0.5 BW "loaded" level are gaitsim's descriptive choices, not from a source; 0.05 BW is the
    contact threshold of ``analysis`` (gaitutils' force-plate threshold)."""
    out = []
    t = np.asarray(res.time, float)
    q = res["q"]
    grf_y = res["grf"][..., 1]  # (B, T, 2 legs)
    ball_h, _ = _ball_heights(model, q)
    i_tilt, i_lumbar = COORDINATES.index("pelvis_tilt"), COORDINATES.index("lumbar")
    for i in range(res.batch_size):
        if int(res.status[i]) == 0:
            out.append("")
            continue
        when = float(res.status_time[i])
        before = np.flatnonzero(t < when)
        if before.size == 0:
            out.append(f"{'fell' if int(res.status[i]) == 1 else 'diverged'} at {when:.3f} s, before the first sample")
            continue
        k = before[-1]
        lean = -np.degrees(q[i, k, i_tilt] + q[i, k, i_lumbar])  # trunk pitch from vertical, forward +
        speed = float(res["qdot"][i, k, 0]) if "qdot" in res.data else float("nan")
        window = before[t[before] > when - 0.5]
        bw = float(model.body_weight[i])
        scuff = [s for j, s in enumerate(SIDES) if np.any((ball_h[i, window, j] < 0.002)
                                                          & (grf_y[i, window, 1 - j] > 0.5 * bw)
                                                          & (grf_y[i, window, j] < 0.05 * bw))]
        kind = "fell" if int(res.status[i]) == 1 else "diverged"
        text = (f"{kind} at {when:.3f} s: trunk {abs(lean):.0f} deg {'forward' if lean >= 0 else 'backward'}, "
                f"pelvis moving {speed:+.2f} m/s")
        if scuff:
            feet = " and ".join({"r": "right", "l": "left"}[s] for s in scuff)
            text += f"; {feet} swing foot{'s' if len(scuff) > 1 else ''} scuffed the ground in the last 0.5 s"
        out.append(text)
    return out


def fiber_operating_range(res, model, muscle: str, *, skip: float = 1.0) -> np.ndarray:
    """(B, 2) minimum and maximum normalized fibre length l/l_opt of ``muscle`` while its foot is in
    stance (vertical force above 5 % of body weight, ``analysis.contact_mask``), after ``skip`` s and
    before a fall; NaN where there is no such sample. Shows where on its force-length curve a
    muscle works (below 1: the ascending limb)."""
    if muscle not in MUSCLES:
        raise ValueError(f"unknown muscle {muscle!r}; allowed: {', '.join(MUSCLES)}")
    side = muscle.rsplit("_", 1)[-1]
    if side not in SIDES:
        raise ValueError(f"fiber_operating_range: {muscle!r} is not a leg muscle (no foot to be in stance)")
    t = np.asarray(res.time, float)
    l_norm = res.muscle("fiber_length", muscle) / model.muscles.l_opt[MUSCLES.index(muscle)][:, None]
    out = np.full((res.batch_size, 2), np.nan)
    for i in range(res.batch_size):  # per walker: its own fall time and body weight
        until = float(res.status_time[i]) if int(res.status[i]) != 0 else np.inf
        stance = analysis.contact_mask(res["grf"][i, :, SIDES.index(side), 1], float(model.body_weight[i]))
        use = stance & (t >= skip) & (t < until)
        if use.any():
            out[i] = l_norm[i, use].min(), l_norm[i, use].max()
    return out
