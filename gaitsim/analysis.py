"""Gait analysis: events from vertical ground force, stride normalization, spatiotemporal measures.

Conventions (pyCGM2 and gaitutils; gaitutils' ``forceplate_contact_threshold = 0.05``):

* a foot is in contact while its vertical ground force exceeds 5 % of body weight;
  contacts or flights shorter than ``min_phase`` (s) are merged away (debouncing);
* a gait cycle runs from one heel strike (contact onset) of a side to its next one and is
  resampled to 0-100 % in 101 points by linear interpolation;
* stance % = foot-off time within the cycle; each double support = the time both feet are
  in contact after the ipsilateral and after the contralateral heel strike, in % of the cycle.

Everything is in SI units; ``percent`` axes are only for output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CYCLE_POINTS = 101
PERCENT = np.linspace(0.0, 100.0, CYCLE_POINTS)
#: EMG stems of ``gaitsim.data.emg_onoff`` -> the simulated muscle whose activation is compared
EMG_MUSCLES = {"soleus": "soleus_r", "gastroc": "gastroc_r", "tib_ant": "tib_ant_r", "iliopsoas": "psoas_r",
               "glut_max": "glut_max_r", "hamstrings": "hamstrings_r", "vasti": "vasti_r", "rect_fem": "rect_fem_r",
               "erector_spinae": "erector_spinae"}
#: the muscles the healthy reference must match best (soleus, gastrocnemius, tibialis anterior,
#: iliopsoas, erector spinae: the mission's push-off, swing and trunk muscles)
EMG_KEY = ("soleus", "gastroc", "tib_ant", "iliopsoas", "erector_spinae")


@dataclass(frozen=True)
class Events:
    """Contact onsets (heel strikes) and offsets (foot-offs) of one foot, in s."""

    strikes: np.ndarray
    offs: np.ndarray


def contact_mask(fy: np.ndarray, body_weight: float, threshold: float = 0.05) -> np.ndarray:
    """Boolean contact from vertical force ``fy`` (N): fy > threshold * body_weight."""
    if not np.isfinite(body_weight) or body_weight <= 0:
        raise ValueError(f"body_weight must be a positive number (N), got {body_weight}")
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must lie in (0, 1) body weights, got {threshold}")
    return np.asarray(fy) > threshold * body_weight


def _debounce(mask: np.ndarray, time: np.ndarray, min_phase: float) -> np.ndarray:
    """Remove contact or flight runs shorter than ``min_phase`` seconds (merging them into neighbours)."""
    m = mask.copy()
    for _ in range(3):  # a few passes settle alternating short runs
        change = np.flatnonzero(np.diff(m.astype(np.int8))) + 1
        bounds = np.concatenate([[0], change, [m.size]])
        changed = False
        for a, b in zip(bounds[:-1], bounds[1:]):
            if a == 0 or b == m.size:
                continue  # runs touching the ends are kept as they are
            if time[b - 1] - time[a] < min_phase:
                m[a:b] = not m[a]
                changed = True
        if not changed:
            break
    return m


def gait_events(time, fy, body_weight, threshold: float = 0.05, min_phase: float = 0.05) -> Events:
    """Heel strikes and foot-offs (s) of one foot from its vertical ground force (N).

    An event is the time the force crosses ``threshold * body_weight``, interpolated linearly
    between the two samples around the crossing (where those samples straddle the threshold; else
    the first sample of the new phase). Without the interpolation an event is late by up to one
    sample: at 1 ms sampling that is up to 1.2 % of an 80-ms double support, the same size as the
    step-size differences ``benchmarks/bench_step_size.py`` measures.
    """
    time = np.asarray(time, dtype=float)
    fy = np.asarray(fy, dtype=float)
    m = _debounce(contact_mask(fy, body_weight, threshold), time, min_phase)
    d = np.diff(m.astype(np.int8))
    on = np.flatnonzero(d == 1) + 1
    off = np.flatnonzero(d == -1) + 1
    level = threshold * body_weight
    return Events(strikes=_crossing_times(time, fy, on, level), offs=_crossing_times(time, fy, off, level))


def _crossing_times(time, fy, first, level: float) -> np.ndarray:
    """Times (s) at which ``fy`` crosses ``level`` between samples ``first - 1`` and ``first``
    (linear interpolation); the sample time ``time[first]`` where they do not straddle it."""
    before, after = fy[first - 1], fy[first]
    straddle = (before - level) * (after - level) <= 0.0
    span = np.where(straddle & (after != before), after - before, 1.0)
    frac = np.where(straddle, (level - before) / span, 1.0)
    return time[first - 1] + np.clip(frac, 0.0, 1.0) * (time[first] - time[first - 1])


def normalize_cycle(time, signal, start: float, end: float, n: int = CYCLE_POINTS) -> np.ndarray:
    """Resample ``signal`` (T, ...) over one cycle [start, end] (s) to ``n`` points."""
    time = np.asarray(time, dtype=float)
    signal = np.asarray(signal, dtype=float)
    t = np.linspace(start, end, n)
    flat = signal.reshape(signal.shape[0], -1)
    out = np.stack([np.interp(t, time, flat[:, k]) for k in range(flat.shape[1])], axis=-1)
    return out.reshape((n,) + signal.shape[1:])


def cycles(time, signal, strikes, n: int = CYCLE_POINTS) -> np.ndarray:
    """All complete cycles of ``signal`` between consecutive strikes: (n_cycles, n, ...)."""
    s = np.asarray(strikes)
    if s.size < 2:
        return np.empty((0, n) + np.shape(signal)[1:])
    return np.stack([normalize_cycle(time, signal, a, b, n) for a, b in zip(s[:-1], s[1:])])


def mean_sd(cyc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over cycles (axis 0)."""
    return cyc.mean(axis=0), cyc.std(axis=0, ddof=1 if cyc.shape[0] > 1 else 0)


def stride_table(ev: Events, other: Events) -> list[dict]:
    """Per stride of one side: start, end (s), stride time, stance %, two double supports (%)."""
    rows = []
    for a, b in zip(ev.strikes[:-1], ev.strikes[1:]):
        off = ev.offs[(ev.offs > a) & (ev.offs < b)]
        o_strike = other.strikes[(other.strikes > a) & (other.strikes < b)]
        o_off = other.offs[(other.offs > a) & (other.offs < b)]
        if off.size != 1 or o_strike.size != 1 or o_off.size < 1:
            continue  # not a regular alternating stride
        T = b - a
        first_ds = o_off[0] - a  # opposite foot-off after ipsilateral strike
        second_ds = off[0] - o_strike[0]  # ipsilateral foot-off after opposite strike
        rows.append({"start": a, "end": b, "stride_time": T, "stance_pct": 100 * (off[0] - a) / T,
                     "double_support_1_pct": 100 * first_ds / T, "double_support_2_pct": 100 * second_ds / T,
                     "opposite_strike_pct": 100 * (o_strike[0] - a) / T})
    return rows


def spatiotemporal(time, pelvis_x, fy_right, fy_left, body_weight, last_n: int | None = None) -> dict:
    """Speed (m/s), cadence (steps/min), stride time (s) and its CV (%), stride length (m),
    step length (m), stance % and double support % of the right side, over complete strides
    (the last ``last_n`` if given). NaN entries when fewer than two strides exist.
    """
    ev_r = gait_events(time, fy_right, body_weight)
    ev_l = gait_events(time, fy_left, body_weight)
    rows = stride_table(ev_r, ev_l)
    if last_n:
        rows = rows[-last_n:]
    nan = float("nan")
    if len(rows) < 2:
        return {"strides": len(rows), "speed": nan, "cadence": nan, "stride_time": nan, "stride_time_cv_pct": nan,
                "stride_length": nan, "step_length": nan, "stance_pct": nan, "double_support_pct": nan}
    st = np.array([r["stride_time"] for r in rows])
    x_start = np.interp([r["start"] for r in rows], time, pelvis_x)
    x_end = np.interp([r["end"] for r in rows], time, pelvis_x)
    length = x_end - x_start
    return {
        "strides": len(rows),
        "speed": float(length.sum() / st.sum()),
        "cadence": float(2 * 60.0 / st.mean()),
        "stride_time": float(st.mean()),
        "stride_time_cv_pct": float(100 * st.std(ddof=1) / st.mean()),
        "stride_length": float(length.mean()),
        "step_length": float(length.mean() / 2),
        "stance_pct": float(np.mean([r["stance_pct"] for r in rows])),
        "double_support_pct": float(np.mean([(r["double_support_1_pct"] + r["double_support_2_pct"]) / 2
                                             for r in rows])),
    }


#: (reference column, sign that turns the OpenSim coordinate into that column's convention)
REFERENCE_ANGLES = {"hip": ("hip_flexion_deg", 1.0), "knee": ("knee_flexion_deg", -1.0),
                    "ankle": ("ankle_dorsiflexion_deg", 1.0)}


def angle_agreement(time, angles: dict, strikes) -> dict:
    """Shape agreement of sagittal joint angles with the shipped measured stride.

    angles: {"hip": hip_flexion, "knee": knee_angle, "ankle": ankle_angle} of one side, each (T,)
    in rad with OpenSim signs (knee negative in flexion); strikes: that side's heel strikes (s).
    The mean stride over the given strikes is compared with ``data.reference_gait`` (subject01,
    CC BY 3.0): Pearson ``<joint>_r``, the offset-removed ``<joint>_rmse_deg``, the mean offset
    ``<joint>_offset_deg`` (simulated minus measured, clinical signs) and ``<joint>_range_deg``
    (sim excursion). NaN without a stride.
    """
    from .data.reference_gait import reference_stride

    ref = reference_stride()
    out = {}
    for joint, signal in angles.items():
        column, sign = REFERENCE_ANGLES[joint]
        cyc = cycles(time, np.asarray(signal), strikes)
        if cyc.shape[0] == 0:
            out.update({f"{joint}_{k}": float("nan") for k in ("r", "rmse_deg", "offset_deg", "range_deg")})
            continue
        sim = sign * np.degrees(cyc.mean(axis=0))
        target = ref[column]
        out[f"{joint}_r"] = float(np.corrcoef(sim, target)[0, 1]) if sim.std() > 0 else 0.0
        out[f"{joint}_rmse_deg"] = float(np.sqrt(np.mean((sim - sim.mean() - (target - target.mean())) ** 2)))
        out[f"{joint}_offset_deg"] = float(sim.mean() - target.mean())
        out[f"{joint}_range_deg"] = float(sim.max() - sim.min())
    return out


def grf_double_hump(curve_bw: np.ndarray) -> tuple[float, float, float]:
    """(first peak, second peak, trough between them) of a mean vertical GRF curve in body weights
    over one stride (101 points from heel strike): the first peak is the maximum over 0-35 % of the
    cycle (loading response), the second over 35-65 % (push-off), the trough the minimum between."""
    g = np.asarray(curve_bw, float)
    first = int(np.argmax(g[:35]))
    second = 35 + int(np.argmax(g[35:65]))
    return float(g[first]), float(g[second]), float(g[first:second + 1].min())


def joint_power(moment, angular_velocity):
    """Joint power (W) = moment (N m) x angular velocity (rad/s); positive = generation."""
    return np.asarray(moment) * np.asarray(angular_velocity)


def onoff_mask(windows, n: int = CYCLE_POINTS) -> np.ndarray:
    """Boolean (n,) over 0-100 % that is True inside the given (start, end) % windows."""
    pct = np.linspace(0.0, 100.0, n)
    mask = np.zeros(n, dtype=bool)
    for a, b in windows:
        mask |= (pct >= a) & (pct <= b)
    return mask


def activation_on(profile: np.ndarray, fraction: float = 0.25) -> np.ndarray:
    """On/off of a cycle-normalized activation: on above min + fraction * (max - min)."""
    p = np.asarray(profile, dtype=float)
    lo, hi = p.min(), p.max()
    return p > lo + fraction * (hi - lo)


def onoff_agreement(profile: np.ndarray, windows, fraction: float = 0.25) -> float:
    """Fraction of the cycle (0-1) where simulated on/off agrees with normative windows."""
    return float(np.mean(activation_on(profile, fraction) == onoff_mask(windows, len(profile))))


def onoff_timing(profile: np.ndarray, windows, fraction: float = 0.25, max_shift_pct: float = 50.0):
    """How late a mean-cycle activation's on/off is against the normative windows.

    Shifts the simulated on/off (``activation_on``) around the cycle by whole samples up to
    ``max_shift_pct`` (% of the cycle) each way and returns ``(lag_pct, agreement)``: the shift that
    agrees best with the windows (positive: the simulated activity comes later than the measured;
    ties go to the smaller shift) and the on/off agreement (0-1) there, over one period (the n - 1
    distinct samples; at no shift within one sample of ``onoff_agreement``). profile: (n,) over 0-100 %
    of the cycle, both ends the same instant (heel strike), as ``cycles`` gives it. A lag near 0 with
    a low agreement is a wrong pattern; a large lag with a high agreement is the right pattern at
    the wrong time.
    """
    p = np.asarray(profile, dtype=float)
    step = 100.0 / (p.size - 1)  # % of the cycle per sample
    sim = activation_on(p, fraction)[:-1]  # one period: the last sample repeats the first
    ref = onoff_mask(windows, p.size)[:-1]
    reach = int(round(max_shift_pct / step))
    shifts = sorted(range(-reach, reach + 1), key=abs)  # the smaller shift first, so it wins ties
    agree = [float(np.mean(np.roll(sim, -k) == ref)) for k in shifts]
    best = int(np.argmax(agree))
    return shifts[best] * step, agree[best]


def loading_response_peaks(time, fy, body_weight, start: float = 0.0, until: float = np.inf,
                           window: float = 0.2) -> np.ndarray:
    """Vertical ground force peaks (BW) of one foot, one per stance phase that begins at or after
    ``start`` (s) and ends before ``until`` (s): the largest force in the first ``window`` (0-1) of
    the stance, the loading response, where a heel-strike transient lies. time (T,) s, fy (T,) N."""
    t = np.asarray(time, float)
    fy = np.asarray(fy, float)
    ev = gait_events(t, fy, body_weight)
    peaks = []
    for strike in ev.strikes:
        offs = ev.offs[ev.offs > strike]
        if strike < start or offs.size == 0 or offs[0] > until:
            continue
        inside = (t >= strike) & (t <= strike + window * (offs[0] - strike))
        if inside.any():
            peaks.append(fy[inside].max() / body_weight)
    return np.array(peaks)


def emg_agreements(mean_activation: dict, fraction: float = 0.25) -> dict:
    """On/off agreement (0-1) of each mean-cycle activation profile with the normative EMG windows of
    ``gaitsim.data.emg_onoff``. mean_activation: {EMG stem: (101,) activation over one cycle}."""
    from .data.emg_onoff import ON_WINDOWS_PCT

    return {stem: onoff_agreement(profile, ON_WINDOWS_PCT[stem], fraction)
            for stem, profile in mean_activation.items()}
