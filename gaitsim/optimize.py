"""Batched CMA-ES tuning of the reflex controllers: the whole population is one batch.

Search space: reflex gains (log-scaled multipliers of the defaults, or additive offsets for
thresholds and reference angles) and the initial state (pose offsets of the reference walking
frame and the forward speed).

Objective (lower is better), after SCONE's gait measures (``GaitMeasure``, ``EffortMeasure``):

    J = 100 (1 - t_alive / T)                      # falling is worst
      + w_speed (v - v_target)^2 / (1 m/s)^2        # mean forward speed over the time alive
      + w_effort * mean_t( sum_m V_m a_m^3 / sum_m V_m )   # activation cubed, weighted by muscle
                                                    # volume V ~ F_max l_opt (documented effort)
      + w_limit * mean_t |joint-limit torque| / (m g h)
      + w_grf * mean_t [F_y / BW - 1.4]+          # impacts above 1.4 body weights (SCONE's
                                                    # MeasureGait10Grf uses the same 1.4 BW limit)
      + w_shape * mean_joints (1 - r)               # hip, knee, ankle angle shape against the shipped
                                                    # measured stride (analysis.angle_agreement); 2 if
                                                    # fewer than two strides after ``settle``
      + w_phase * (distance of stance % from 57-66 and of double support % from 8-14) / 10 %
                                                    # the walking issue's target ranges (normal: stance
                                                    # 60-62 %, each double support 10-12 %, Perry via
                                                    # Perry & Burnfield 2010, Gait Analysis); 5 if no strides
      + w_hump * (distance of both mean vertical GRF peaks from 1.0-1.35 BW
                  + shortfall of the trough below 0.1 BW under the lower peak) / 0.1 BW
                                                    # the issue's double-hump target, on the mean right
                                                    # stride (analysis.grf_double_hump); 5 if no strides
      + w_cadence * (distance of cadence from 95-125 steps/min) / (10 steps/min)
                                                    # the walking issue's cadence range; 5 if no strides
      + w_offset * mean_joints |mean angle - measured mean angle| / 10 deg
                                                    # hip, knee, ankle posture against the same stride
                                                    # (analysis.angle_agreement's offsets); 5 if fewer
                                                    # than two strides
      + w_impact * (mean over heel strikes of [peak - 1.25]+ + max over them of [peak - 1.5]+) / 0.1 BW
                                                    # per-foot loading-response peaks (analysis.
                                                    # loading_response_peaks): measured mean-curve peaks
                                                    # 1.0-1.25 BW, every strike <= 1.5 BW (the healthy-
                                                    # reference issue's targets); 5 if no strikes
      + w_emg * mean_muscles (1 - on/off agreement) / 0.1
                                                    # mean-cycle activation on/off against the normative
                                                    # EMG windows (analysis.emg_agreements, 9 muscles);
                                                    # 5 if fewer than two strides
      + w_metabolic * mean_t(sum_m P_m) / (body mass * v_target)
                                                    # metabolic cost of transport at the target speed,
                                                    # J/(kg m): muscle metabolic power P_m of Umberger
                                                    # et al. 2003 with Umberger 2010's changes
                                                    # (loads.metabolic_power, the measures' model),
                                                    # averaged over the time alive; the effort measure
                                                    # of predictive gait studies (Ong et al. 2019 use a
                                                    # metabolic cost of transport), off by default
      + w_amplitude * mean_muscles [max of the mean-cycle activation - 0.5]+ / 0.1
                                                    # the same 9 muscles: normal walking rarely needs
                                                    # more than about half of a muscle's maximal
                                                    # activation (EMG peaks mostly 20-50 % of a maximal
                                                    # manual muscle test, Perry & Burnfield 2010, Gait
                                                    # Analysis, 2nd ed., ch. 4-6); 5 if no strides
      + w_lumbar * mean_strides [peak lumbar compression - 2.5 BW]+ / 0.1 BW
                                                    # compression on the trunk's free body
                                                    # (loads.lumbar_load, qddot by central differences of
                                                    # the saved qdot) against the top of the peaks
                                                    # Cappozzo 1984 estimated for level walking
                                                    # (loads.CAPPOZZO_PEAK_BW); 5 if no strides
      + w_regularity * CV of the right stride times (%, analysis.spatiotemporal)
                                                    # stride-to-stride regularity: a limit cycle's
                                                    # stride times repeat (the walking targets ask for
                                                    # a CV below 3 %; the shipped walkers walk 60 s at
                                                    # 0.03-0.06 %); 5 if fewer than three strides

The last ten terms are off by default (weights 0); they use strides after ``settle`` seconds.
The w_grf term averages over time, so a short heel-strike impact barely moves it; w_hump acts on
the peaks of the mean stride instead.

A walker standing still scores (v_target)^2 w_speed, so walking beats standing (otherwise an
optimizer finds that standing still is cheapest). ``tune`` is seeded, writes a checkpoint after every generation (resume by calling
it again with the same ``checkpoint``), and reports progress.
"""

from __future__ import annotations

import json
import os
import pickle
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import loads
from .integrate import SOLVER_OPTIONS, SaveEvery, SemiImplicitEuler, simulate
from .model import build_model
from .muscle_table import PAIRS, reference_lengths
from .reflex import ReflexController, ReflexGains
from .walking_start import walking_state

#: gains searched additively (offsets, thresholds, angles), with their search scale
ADDITIVE = {"l_off_TA": 0.1, "knee_off": 0.1, "theta_ref": 0.1, "l_off_HFL": 0.1, "l_off_HAM": 0.1,
            "l_off_CS": 0.1, "lumbar_ref": 0.1, "sway_threshold": 0.05, "transfer_load": 0.1,
            "pre_swing_calf_keep": 0.2, "G_ES_DS": 0.1}
DEFAULT_GAINS = ("S0", "G_SOL", "G_TA", "l_off_TA", "G_SOLTA", "G_GAS", "S0_VAS", "G_VAS", "k_phi", "knee_off",
                 "k_bw", "dS", "kp", "kd", "S0_BAL", "theta_ref", "G_HFL", "l_off_HFL", "k_lean", "G_HAMHFL",
                 "l_off_HAM", "G_HAM", "G_GLU", "G_RF", "calf_stretch_gain", "calf_stretch_velocity_gain",
                 "S0_L", "kp_L", "kd_L", "kq_L")
TRUNK_GAINS = ("k_trunk", "G_sway", "sway_threshold", "transfer_load", "pre_swing_calf_keep")
POSE_OFFSETS = ("pelvis_tilt", "lumbar", "hip_flexion_r", "knee_angle_r", "ankle_angle_r", "hip_flexion_l",
                "knee_angle_l", "ankle_angle_l")
POSE_SCALE = 0.1  # rad per unit of search coordinate


@dataclass
class Objective:
    """Tuning objective settings (SI units)."""

    duration: float = 10.0  # s
    target_speed: float = 1.3  # m/s
    w_speed: float = 20.0  # standing still (33.8 at 1.3 m/s) must cost less than falling early
    w_effort: float = 10.0
    w_limit: float = 10.0
    w_grf: float = 100.0
    grf_limit: float = 1.4  # body weights
    dt: float = 2.5e-4  # s
    also_dt: tuple[float, ...] = ()  # s; further steps each candidate must walk at (cost: worst over steps)
    sample_every: int = 8  # steps between saved samples used by the objective (2 ms: catches impacts)
    w_shape: float = 0.0
    w_phase: float = 0.0
    w_hump: float = 0.0
    w_cadence: float = 0.0
    settle: float = 1.0  # s of start-up ignored by the shape, phase and hump terms
    backend: str = "auto"  # "numba" (compiled kernels, ~10x faster at 16-32 walkers) when it imports, else "numpy"
    fiber_iterations: int = SemiImplicitEuler.fiber_iterations  # Newton iterations of the fibre step (0: linear)
    normal_contact: str = SemiImplicitEuler.normal_contact  # "active_set" or "explicit" (see SemiImplicitEuler)
    mechanics_substeps: int = SemiImplicitEuler.mechanics_substeps  # skeleton/contact sub-steps per step
    damping_theta: float = SemiImplicitEuler.damping_theta  # 1 backward-Euler damping, 0.5 trapezoidal
    stance_range: tuple[float, float] = (57.0, 66.0)  # % of the cycle (walking issue; Perry 60-62 %)
    double_support_range: tuple[float, float] = (8.0, 14.0)  # % of the cycle, each (issue; Perry 10-12 %)
    grf_peak_range: tuple[float, float] = (1.0, 1.35)  # BW, both vertical GRF peaks (walking issue)
    grf_trough_margin: float = 0.1  # BW, trough at least this far below both peaks (walking issue)
    cadence_range: tuple[float, float] = (95.0, 125.0)  # steps/min (walking issue)
    w_offset: float = 0.0
    w_impact: float = 0.0
    w_emg: float = 0.0
    w_amplitude: float = 0.0
    impact_limits: tuple[float, float] = (1.25, 1.5)  # BW: mean-curve peak top, every-strike limit (healthy reference)
    amplitude_limit: float = 0.5  # activation (0-1) the mean cycle's peak may reach without cost
    w_metabolic: float = 0.0  # per J/(kg m) of metabolic cost of transport at the target speed
    w_lumbar: float = 0.0
    lumbar_limit: float = loads.CAPPOZZO_PEAK_BW[1]  # BW: per-stride peak compression without cost
    w_regularity: float = 0.0

    def __post_init__(self):
        negative = [f"w_{k}" for k in ("speed", "effort", "limit", "grf", "metabolic") + GAIT_TERMS
                    if getattr(self, f"w_{k}") < 0]
        if negative:
            raise ValueError(f"Objective: weights must be >= 0, got {', '.join(negative)} < 0")


def objective_solver(objective: Objective) -> SemiImplicitEuler:
    """The integrator an objective's candidates are simulated with."""
    return SemiImplicitEuler(backend=objective.backend, **{k: getattr(objective, k) for k in SOLVER_OPTIONS})


#: the swing reflexes' length thresholds and the muscle whose normalized fibre length each is compared
#: with (``reflex``: l_HFL is the psoas', l_HAM the hamstrings')
LENGTH_THRESHOLDS = {"l_off_HFL": "psoas", "l_off_HAM": "hamstrings"}


def shift_posture(base: dict, flexion: float) -> dict:
    """A search centre whose walker carries ``flexion`` rad more lumbar flexion, its trunk and thighs
    kept in space: the pelvis tilts back by ``flexion`` and the hips extend by as much.

    ``base``: a search centre ({gain: value} plus ``start_<coordinate>``, as ``SearchSpace.base``);
    returns a new one with ``lumbar_ref`` and the start pose moved, and the swing reflexes' length
    thresholds (``LENGTH_THRESHOLDS``) moved by the fibre-length change the new posture brings, so
    that each reflex fires at the same thigh and trunk orientation as before: the musculotendon
    length change -sum_j r_j dq_j over the coordinates the muscle spans (constant moment arms r_j of
    ``muscle_table``, Geyer & Herr 2010's rho r0; psoas: hip 5 cm, lumbar -1 cm; hamstrings: hip -5.6
    cm), divided by l_opt, the tendon's share neglected. Moving ``lumbar_ref`` alone moves the
    pelvis and hips under the length-based swing reflexes, and a walker that walked falls within a
    few steps; this shift is where a posture tuning starts (``examples/tune_healthy.py
    --shift-posture``), the optimizer does the rest.
    """
    out = dict(base)
    defaults = asdict(ReflexGains())
    dq = {"lumbar": -flexion, "hip_flexion_r": -flexion}  # lumbar extension and hip flexion change, rad
    for gain, muscle in LENGTH_THRESHOLDS.items():
        dl = -sum(r0 * dq[coord] for m, coord, _, r0, *_ in PAIRS if m == f"{muscle}_r" and coord in dq)
        out[gain] = out.get(gain, defaults[gain]) + dl / reference_lengths(muscle)[0]
    out["lumbar_ref"] = out.get("lumbar_ref", defaults["lumbar_ref"]) + flexion
    out["start_pelvis_tilt"] = out.get("start_pelvis_tilt", 0.0) + flexion
    out["start_lumbar"] = out.get("start_lumbar", 0.0) - flexion
    for side in ("r", "l"):
        out[f"start_hip_flexion_{side}"] = out.get(f"start_hip_flexion_{side}", 0.0) - flexion
    return out


@dataclass
class SearchSpace:
    """Which controller gains and initial-state values are tuned."""

    mode: str = "trunk_initiated"
    gains: tuple[str, ...] = field(default_factory=lambda: DEFAULT_GAINS)
    base: dict = field(default_factory=dict)  # starting gain values (default: ReflexGains())
    tune_start: bool = True

    def __post_init__(self):
        if self.mode == "trunk_initiated" and self.gains == DEFAULT_GAINS:
            self.gains = DEFAULT_GAINS + TRUNK_GAINS
        unknown = [g for g in self.gains if g not in ReflexGains.names()]
        if unknown:
            raise ValueError(f"unknown gains {unknown}; allowed: {', '.join(ReflexGains.names())}")

    @property
    def dimension(self) -> int:
        return len(self.gains) + (len(POSE_OFFSETS) + 1 if self.tune_start else 0)

    def base_gains(self) -> dict:
        g = asdict(ReflexGains())
        g.update(self.base)
        return g

    def decode(self, x: np.ndarray) -> tuple[dict, dict]:
        """Population (n, d) -> (gains {name: (n,)}, start {offsets, speed, rate_scale})."""
        x = np.atleast_2d(x)
        base = self.base_gains()
        gains = {}
        for i, name in enumerate(self.gains):
            gains[name] = base[name] + ADDITIVE[name] * x[:, i] if name in ADDITIVE else base[name] * np.exp(x[:, i])
        start = {"pose_offsets": {}, "speed": np.full(x.shape[0], base.get("start_speed", 1.3))}
        if self.tune_start:
            k = len(self.gains)
            for j, name in enumerate(POSE_OFFSETS):
                start["pose_offsets"][name] = base.get(f"start_{name}", 0.0) + POSE_SCALE * x[:, k + j]
            start["speed"] = base.get("start_speed", 1.3) + 0.2 * x[:, k + len(POSE_OFFSETS)]
        return gains, start


def evaluate(x: np.ndarray, space: SearchSpace, objective: Objective, body: dict | None = None) -> dict:
    """Simulate a population (n, d) as one batch; return costs and per-walker measures.

    With ``objective.also_dt`` each candidate is also simulated at those steps (same sampling
    interval in seconds) and its cost is the worst over all steps: a gait that only works at one
    step size is penalized (gains tuned at one step may fall at another). The
    other measures are those at ``objective.dt``.
    """
    x = np.atleast_2d(x)
    n = x.shape[0]
    gains, start = space.decode(x)
    model = build_model(batch_size=n, **(body or {}))
    return evaluate_walkers(model, gains, start, objective, space.mode)


def evaluate_walkers(model, gains: dict, start: dict, objective: Objective, mode: str, wrap=None) -> dict:
    """Simulate a batch of candidate walkers and score them (``evaluate``'s work, for any model).

    model: B walkers (each may have its own body). gains: {name: scalar or (B,)}. start:
    {"speed": (B,), "pose_offsets": {coordinate: (B,)}} (``SearchSpace.decode``). wrap: optional
    callable wrapping the reflex controller (e.g. ``control.ExcitationOffset``). Returns the
    measures of ``measures`` with the cost as ``evaluate`` defines it."""
    x0 = walking_state(model, speed=start["speed"], pose_offsets=start["pose_offsets"])
    out = None
    for dt in (objective.dt, *objective.also_dt):
        every = max(1, round(objective.sample_every * objective.dt / dt))
        ctrl = ReflexController(gains=gains, mode=mode, backend=objective.backend)  # steps: simulate's dt
        if wrap is not None:
            ctrl = wrap(ctrl)
        res = simulate(model, ctrl, duration=objective.duration, dt=dt, initial_state=x0,
                       save=SaveEvery(every, objective_fields(objective)),
                       stop_when_all_failed=True, solver=objective_solver(objective))
        m = measures(res, model, objective, x0)
        if out is None:
            out = m
        else:
            out["cost"] = np.maximum(out["cost"], m["cost"])
    return out


def objective_fields(objective: Objective) -> tuple[str, ...]:
    """The result fields an objective's terms read (the metabolic term needs the fibre states)."""
    fields = ("q", "activation", "limit_moment", "grf")
    if objective.w_metabolic > 0:
        fields += ("excitation", "fiber_length", "fiber_velocity")
    if objective.w_lumbar > 0:
        fields += ("qdot", "muscle_force")
    return fields


def measures(res, model, objective: Objective, x0) -> dict:
    """Cost terms from a result (per walker)."""
    T = objective.duration
    alive = np.where(res.status == 0, T, res.status_time)
    t = res.time
    mask = t[None, :] < alive[:, None]  # samples while alive (B, T)
    dx = np.array([res["q"][i, mask[i], 0][-1] if mask[i].any() else 0.0 for i in range(res.batch_size)]) - x0[:, 0]
    speed = dx / np.maximum(alive, 1e-3)
    vol = (model.muscles.f_max * model.muscles.l_opt).T  # (B, n_muscles)
    a3 = (res["activation"] ** 3 * vol[:, None, :]).sum(axis=2) / vol.sum(axis=1)[:, None]
    effort = np.where(mask, a3, 0.0).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)
    scale = model.body_weight * 1.0
    lim = np.abs(res["limit_moment"]).sum(axis=2) / scale[:, None]
    limit = np.where(mask, lim, 0.0).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)
    if "grf" in res.data:
        fy = res["grf"][:, :, :, 1].sum(axis=2) / model.body_weight[:, None]
        over = np.where(mask, np.maximum(fy - objective.grf_limit, 0.0), 0.0)
        grf = over.sum(axis=1) / np.maximum(mask.sum(axis=1), 1)
    else:
        grf = np.zeros_like(alive)
    out = {"alive": alive, "speed": speed, "effort": effort, "limit": limit, "grf": grf}
    if objective.w_metabolic > 0:
        power = loads.metabolic_power(res.data, model).sum(axis=2)  # (B, T) W
        rate = np.where(mask, power, 0.0).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)
        out["metabolic"] = rate / model.skeleton.mass_total / objective.target_speed  # J/(kg m)
    if any(getattr(objective, f"w_{k}") > 0 for k in GAIT_TERMS):
        out.update(gait_terms(res, model, alive, objective))
    return {"cost": total_cost(weighted_terms(out, objective)), **out}


def weighted_terms(out: dict, objective: Objective) -> dict[str, np.ndarray]:
    """Each term of the cost as it enters the sum (per walker), from ``measures``' values:
    ``falling`` (100 (1 - t_alive / T)), ``speed`` (w_speed times the squared error), then each
    weighted measure present in ``out`` (``metabolic`` and the ``GAIT_TERMS`` only when computed)."""
    terms = {"falling": 100.0 * (1.0 - out["alive"] / objective.duration),
             "speed": objective.w_speed * (out["speed"] - objective.target_speed) ** 2}
    for k in ("effort", "limit", "grf", "metabolic") + GAIT_TERMS:
        if k in out:
            terms[k] = getattr(objective, f"w_{k}") * out[k]
    return terms


def total_cost(terms: dict) -> np.ndarray:
    """The objective's value from ``weighted_terms``: the always-present terms, then the metabolic
    term, then the stride terms' sum."""
    cost = terms["falling"] + terms["speed"] + terms["effort"] + terms["limit"] + terms["grf"]
    if "metabolic" in terms:
        cost = cost + terms["metabolic"]
    gait = [terms[k] for k in GAIT_TERMS if k in terms]
    return cost + sum(gait) if gait else cost


#: the stride-based objective terms (``gait_terms``), each weighted by ``Objective.w_<name>``
GAIT_TERMS = ("shape", "phase", "hump", "cadence", "offset", "impact", "emg", "amplitude", "lumbar", "regularity")


def _outside(value: float, bounds: tuple[float, float]) -> float:
    """Distance of ``value`` from the interval ``bounds`` (0 inside)."""
    return max(bounds[0] - value, 0.0) + max(value - bounds[1], 0.0)


def gait_terms(res, model, alive, objective: Objective) -> dict[str, np.ndarray]:
    """Per walker: ``shape``, the angle-shape misfit mean_j (1 - r_j) in [0, 2]; ``phase``, the
    stance and double support outside their ranges, per 10 % of the cycle; ``hump``, the double-hump
    misfit (GRF peaks outside their range and trough shortfall, per 0.1 BW); ``cadence``, the
    cadence outside its range per 10 steps/min; ``offset``, ``impact``, ``emg``, ``amplitude``,
    ``lumbar`` and ``regularity`` as the module docstring defines them; over the right strides (both feet's strikes for
    ``impact``) after ``objective.settle`` while alive. Needs ``q``, ``grf`` and ``activation``
    saved, and ``qdot`` and ``muscle_force`` for ``lumbar`` (computed only when ``w_lumbar > 0``).
    Post-processing, one walker at a time (a few ms each), never on the integration path."""
    from . import analysis
    from .names import COORDINATES, MUSCLES

    t = res.time
    b = res.batch_size
    terms = {name: np.full(b, 2.0 if name == "shape" else 5.0) for name in GAIT_TERMS}
    ih, ik, ia = (COORDINATES.index(c) for c in ("hip_flexion_r", "knee_angle_r", "ankle_angle_r"))
    emg_columns = [MUSCLES.index(m) for m in analysis.EMG_MUSCLES.values()]
    mean_limit, strike_limit = objective.impact_limits
    if objective.w_lumbar > 0:  # compression of the whole batch at once, (B, T) N
        qddot = np.gradient(res["qdot"], t, axis=1)
        compression, _ = loads.lumbar_load(res["q"], res["qdot"], qddot, res["muscle_force"], model)
    for i in range(b):  # per-walker event detection on saved samples (not the hot path)
        keep = (t >= objective.settle) & (t < alive[i])
        if keep.sum() < 10:
            continue
        tt, q = t[keep], res["q"][i, keep]
        bw = float(model.body_weight[i])
        fy_r, fy_l = res["grf"][i, keep, 0, 1], res["grf"][i, keep, 1, 1]
        peaks = np.concatenate([analysis.loading_response_peaks(tt, fy, bw) for fy in (fy_r, fy_l)])
        if peaks.size:
            terms["impact"][i] = (np.maximum(peaks - mean_limit, 0.0).mean()
                                  + max(peaks.max() - strike_limit, 0.0)) / 0.1
        st = analysis.spatiotemporal(tt, q[:, 0], fy_r, fy_l, bw)
        if st["strides"] < 2:
            continue
        if st["strides"] >= 3:
            terms["regularity"][i] = st["stride_time_cv_pct"]  # the walking targets' CV
        strikes = analysis.gait_events(tt, fy_r, bw).strikes
        ag = analysis.angle_agreement(tt, {"hip": q[:, ih], "knee": q[:, ik], "ankle": q[:, ia]}, strikes)
        r = np.array([ag["hip_r"], ag["knee_r"], ag["ankle_r"]])
        terms["shape"][i] = float(np.mean(np.where(np.isfinite(r), 1.0 - r, 2.0)))
        offsets = np.abs([ag["hip_offset_deg"], ag["knee_offset_deg"], ag["ankle_offset_deg"]])
        terms["offset"][i] = float(np.mean(np.where(np.isfinite(offsets), offsets, 50.0))) / 10.0
        terms["phase"][i] = (_outside(st["stance_pct"], objective.stance_range)
                             + _outside(st["double_support_pct"], objective.double_support_range)) / 10.0
        terms["cadence"][i] = _outside(st["cadence"], objective.cadence_range) / 10.0
        g, _ = analysis.mean_sd(analysis.cycles(tt, fy_r / bw, strikes))
        p1, p2, trough = analysis.grf_double_hump(g)
        miss = _outside(p1, objective.grf_peak_range) + _outside(p2, objective.grf_peak_range)
        miss += max(trough - (min(p1, p2) - objective.grf_trough_margin), 0.0)
        terms["hump"][i] = miss / 0.1
        if "activation" in res.data:
            act = res["activation"][i, keep][:, emg_columns]
            mean_act = {stem: analysis.mean_sd(analysis.cycles(tt, act[:, k], strikes))[0]
                        for k, stem in enumerate(analysis.EMG_MUSCLES)}
            agree = analysis.emg_agreements(mean_act)
            terms["emg"][i] = float(np.mean([1.0 - a for a in agree.values()])) / 0.1
            terms["amplitude"][i] = float(np.mean([max(p.max() - objective.amplitude_limit, 0.0)
                                                   for p in mean_act.values()])) / 0.1
        if objective.w_lumbar > 0:
            comp = compression[i, keep] / bw
            peaks = [comp[(tt >= a) & (tt < b)].max() for a, b in zip(strikes[:-1], strikes[1:])]
            terms["lumbar"][i] = float(np.mean(np.maximum(np.array(peaks) - objective.lumbar_limit, 0.0))) / 0.1
    if objective.w_lumbar <= 0:
        del terms["lumbar"]  # not computed (its fields need not be saved)
    return terms


def _eval_chunk(args):
    x, space, objective, body = args
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    return evaluate(x, space, objective, body)


def tune(space: SearchSpace, objective: Objective, *, generations: int = 50, popsize: int = 32, sigma0: float = 0.3,
         seed: int = 1, checkpoint: str | Path | None = None, workers: int = 1, body: dict | None = None,
         progress=print) -> dict:
    """Run (or resume) CMA-ES; returns the best solution with its provenance.

    workers > 1 evaluates the population in that many processes (each a batch). The
    checkpoint (pickle of the CMA state and history) is rewritten after every generation.
    """
    import cma

    ckpt = Path(checkpoint) if checkpoint else None
    if ckpt and ckpt.exists():
        with open(ckpt, "rb") as f:
            state = pickle.load(f)
        es, history = state["es"], state["history"]
        progress(f"resumed from {ckpt} at generation {len(history)}")
    else:
        es = cma.CMAEvolutionStrategy(np.zeros(space.dimension), sigma0,
                                      {"popsize": popsize, "seed": seed, "verbose": -9})
        history = []
    pool = None
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=workers)
    try:
        while len(history) < generations and not es.stop():
            t0 = time.perf_counter()
            X = np.array(es.ask())
            if pool is None:
                out = evaluate(X, space, objective, body)
            else:
                chunks = np.array_split(np.arange(len(X)), workers)
                parts = list(pool.map(_eval_chunk, [(X[c], space, objective, body) for c in chunks]))
                out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
            es.tell(list(X), list(out["cost"]))
            best = int(np.argmin(out["cost"]))
            history.append({"generation": len(history) + 1, "wall_s": time.perf_counter() - t0,
                            "best_cost": float(out["cost"][best]), "best_alive": float(out["alive"][best]),
                            "best_speed": float(out["speed"][best]), "median_cost": float(np.median(out["cost"])),
                            "x_best": X[best].tolist()})
            h = history[-1]
            progress(f"gen {h['generation']:4d}  best {h['best_cost']:8.3f} (alive {h['best_alive']:5.2f} s, "
                     f"{h['best_speed']:4.2f} m/s)  median {h['median_cost']:8.3f}  {h['wall_s']:6.1f} s")
            if ckpt:
                tmp = ckpt.with_suffix(".tmp")
                with open(tmp, "wb") as f:
                    pickle.dump({"es": es, "history": history}, f)
                tmp.replace(ckpt)
    finally:
        if pool is not None:
            pool.shutdown()
    return solution(space, objective, history, seed=seed, popsize=popsize, sigma0=sigma0)


def solution(space: SearchSpace, objective: Objective, history: list, since: int = 0, generation: int | None = None,
             **provenance) -> dict:
    """The best point of a tuning history as a JSON-ready dict (gains, start state, provenance).

    since: only generations after this one count (use it when the objective changed mid-run).
    generation: take the best candidate of this generation (1-based) instead of the overall best
    (a generation's best may meet more targets at other steps than the lowest cost does).
    """
    if generation is not None:
        if not 1 <= generation <= len(history):
            raise ValueError(f"generation must lie in [1, {len(history)}] (the generations run), got {generation}")
        overall = history[generation - 1]
    else:
        overall = min(history[since:], key=lambda h: h["best_cost"])
    gains, start = space.decode(np.array(overall["x_best"]))
    return {"mode": space.mode, "gains": {k: float(v[0]) for k, v in gains.items()},
            "start": {"speed": float(start["speed"][0]),
                      "pose_offsets": {k: float(v[0]) for k, v in start["pose_offsets"].items()}},
            "provenance": {"objective": asdict(objective), **provenance, "generations": len(history),
                           "best_generation": overall["generation"], "best_cost": overall["best_cost"],
                           "search_gains": list(space.gains),
                           **({"search_base": dict(space.base)} if space.base else {})},
            "history": [{k: v for k, v in h.items() if k != "x_best"} for h in history]}


def solution_from_checkpoint(checkpoint, space: SearchSpace, objective: Objective, since: int = 0,
                             generation: int | None = None, **provenance) -> dict:
    """Best solution so far of a (possibly still running) tuning checkpoint (or of one generation)."""
    with open(checkpoint, "rb") as f:
        state = pickle.load(f)
    return solution(space, objective, state["history"], since=since, generation=generation, **provenance)


def save_solution(solution: dict, path) -> None:
    Path(path).write_text(json.dumps(solution, indent=2))


__all__ = ["Objective", "SearchSpace", "evaluate", "evaluate_walkers", "weighted_terms", "total_cost", "tune", "solution", "solution_from_checkpoint", "save_solution"]
