"""Virtual clinical exams on the relaxed model: passive ranges and isometric strength.

Every exam is quasi-static: for an imposed posture ``q`` (10, N) each muscle's fibre length
comes from the static equilibrium of fibre and tendon force along the musculotendon length
``path_geometry(model.paths, q)`` (``muscles.equilibrium_fiber_length``: one vectorized
bisection over the whole (n_muscles, N) array), and the joint moments are the tendon forces
times the moment arms (``model.muscle_generalized_forces``) plus the soft joint-limit moment
(``joint_limits.limit_torques`` at zero speed). All walkers and all angle samples of an exam are
solved together: N = B x n_angles columns.

Relaxed muscles: every muscle not tested is at the activation the simulated muscles never go
below, ``control.MIN_EXCITATION`` = 0.01 (Geyer & Herr 2010's pre-stimulation). This is a
modelling choice: it is the model's real resting state, so its 1 % active force is part of the
"passive" resistance (about 2 N m at the ankle). ``activation=0`` in the low-level functions
gives the purely elastic curve.

Sign conventions: inside, OpenSim coordinates and moments (ankle > 0 dorsiflexion, hip > 0
flexion, knee < 0 flexion, lumbar > 0 extension; a moment is positive in the positive
coordinate direction). Resistances reported by an exam are positive numbers (N m) *against* the
imposed motion. Degrees appear only in ``table()``/``summary()`` text.

Sources of the exam protocols and normal values
-----------------------------------------------
[BA14]  Baumbach SF et al. 2014, BMC Musculoskelet Disord 15:246: passive non-weight-bearing
        ankle dorsiflexion (ADF) 4 deg [95 % CI 1-8] with the knee extended and 20 deg [16-24]
        with the knee 75 deg flexed; 20 deg of knee flexion already removes the gastrocnemius.
[GC11]  Gatt A, Chockalingam N 2011, J Am Podiatr Med Assoc 101:59 (review of ADF measures):
        "normal" non-weight-bearing ADF is usually quoted as 10-20 deg; equinus as < 10 deg with
        the knee extended.
[SI24]  Silfverskiold N 1924, Acta Chir Scand 56:315: dorsiflexion with the knee extended vs
        flexed separates gastrocnemius from soleus tightness.
[HA98]  Harvey D 1998, Br J Sports Med 32:68: modified Thomas test in 117 elite athletes, mean
        hip angle -11.9 deg (thigh 11.9 deg below the horizontal, i.e. 11.9 deg of extension).
[VI16]  Vigotsky AD et al. 2016, PeerJ 4:e2325: a hip extension deficit is a hip that cannot
        extend to 0 deg (neutral) in the Thomas test.
[KE05]  Kendall FP et al. 2005, Muscles: Testing and Function, 5th ed.: modified Thomas test with
        the knee of the test leg hanging flexed about 80 deg.
[MA81]  Marsh E, Sale D, McComas AJ, Quinlan J 1981, J Appl Physiol 51:160: isometric
        dorsiflexor MVC of young adults about 35-45 N m, largest in plantarflexed positions.
[FM80]  Fugl-Meyer AR, Gustafsson L, Burstedt Y 1980, Eur J Appl Physiol 45:221: static
        plantarflexion torque of sedentary adults 20-49 y, of the order of 100-150 N m with the
        knee extended (about 15 % less with it flexed).
[HF16]  Hussain SJ, Frey-Law L 2016, J Foot Ankle Res 9:43: isometric ankle PF/DF strength over
        -10 (DF) to 30 deg (PF), the angle range used here.
The normal strength values above are quoted as ranges, not a single subject; treat them as the
order of magnitude to expect (see ``NORMAL``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from . import joint_limits, muscles as mus
from .control import MIN_EXCITATION
from .model import Model, MuscleArrays, PathArrays, muscle_generalized_forces, path_geometry
from .names import COORDINATES, MUSCLES, N_COORDINATES, N_MUSCLES, SIDES, muscle_index

_DEG = np.pi / 180.0

# ----- protocol constants (SI) ---------------------------------------------------------------
#: passive dorsiflexion range: angle where the total ankle resistance reaches this moment (N m).
#: A fixed standard torque as in instrumented clinical ADF measures [GC11]; 10 N m is our choice
#: of that torque (the exams report the whole curve, so another threshold can be read off it).
ANKLE_THRESHOLD = 10.0
#: knee angles (rad) of the Silfverskiold test: extended (0) and flexed 75 deg as in [BA14]
KNEE_EXTENDED = 0.0
KNEE_FLEXED = -75.0 * _DEG
#: ankle samples (rad): 30 deg plantarflexion .. 40 deg dorsiflexion, 0.5-deg steps
ANKLE_ANGLES = np.arange(-30.0, 40.0 + 1e-9, 0.5) * _DEG
#: Thomas test: hip samples (rad) from 60 deg flexion to 30 deg extension; knee hanging 80 deg
#: flexed [KE05]; lumbar 0 and pelvis fixed (the pelvis is the model's root: not moved).
HIP_ANGLES = np.arange(60.0, -30.0 - 1e-9, -0.5) * _DEG
THOMAS_KNEE = -80.0 * _DEG
#: Thomas threshold (N m): the same fixed standard moment as the ankle test (our choice). The
#: hanging leg's own weight moment would be about 40 N m for the default body (thigh horizontal,
#: knee 80 deg flexed; ``anthropometry`` segments), beyond what the model's hip flexors resist
#: before the -30 deg soft limit; 10 N m puts the healthy model near [HA98]'s mean.
THOMAS_THRESHOLD = 10.0
#: strength: ankle samples (rad) 30 deg PF .. 10 deg DF [HF16], knee extended
STRENGTH_ANGLES = np.arange(-30.0, 10.0 + 1e-9, 1.0) * _DEG
STRENGTH_KNEE = 0.0

#: cited normal values (SI: rad, N m) for the report table
NORMAL = {
    "df_knee_extended": (4.0 * _DEG, "rad", "BA14: 4 deg [1-8] non-weight-bearing (GC11: 10-20 deg quoted)"),
    "df_knee_flexed": (20.0 * _DEG, "rad", "BA14: 20 deg [16-24], knee 75 deg flexed"),
    "thomas_hip": (-11.9 * _DEG, "rad", "HA98: -11.9 deg (11.9 deg extension); deficit if > 0 (VI16)"),
    "dorsiflexor_peak": (40.0, "N m", "MA81: about 35-45 N m"),
    "plantarflexor_peak": (125.0, "N m", "FM80: about 100-150 N m, knee extended"),
}


# ----- low-level: equilibrium moments for many postures ------------------------------------------
def _tile(a: np.ndarray, n: int) -> np.ndarray:
    """(k, B) -> (k, B*n) with column b*n + j = a[:, b] (walker-major)."""
    return np.repeat(a, n, axis=1)


def _tiled_arrays(model: Model, n: int) -> tuple[MuscleArrays, PathArrays]:
    m, p = model.muscles, model.paths
    mp = MuscleArrays(f_max=_tile(m.f_max, n), l_opt=_tile(m.l_opt, n), l_slack=_tile(m.l_slack, n),
                      v_max=_tile(m.v_max, n), ref_strain=_tile(m.ref_strain, n), pe_factor=_tile(m.pe_factor, n),
                      tau_act=_tile(m.tau_act, n))
    pp = PathArrays.build(r0=_tile(p.r0, n), q_max=_tile(p.q_max, n), q_ref=_tile(p.q_ref, n),
                          is_cosine=p.is_cosine, l_ref=_tile(p.l_ref, n))
    return mp, pp


@dataclass(frozen=True)
class StaticState:
    """Static equilibrium of all muscles at N postures (N = B x n_angles, walker-major).

    fiber_length_norm, force: (n_muscles, N) (-, N); muscle_moment, limit_moment: (10, N) N m
    (OpenSim sign; limit moment zero on the pelvis rows)."""

    fiber_length_norm: np.ndarray
    force: np.ndarray
    muscle_moment: np.ndarray
    limit_moment: np.ndarray

    @property
    def total_moment(self) -> np.ndarray:
        return self.muscle_moment + self.limit_moment


def static_state(model: Model, q: np.ndarray, activation: np.ndarray) -> StaticState:
    """Quasi-static muscle state at postures ``q`` (10, B*n) for activations (n_muscles, B*n).

    The columns are walker-major: column ``b*n + j`` belongs to walker ``b``. Fibre lengths are
    the equilibrium of ``muscles.equilibrium_fiber_length`` (tendon force = active + passive fibre
    force, v_ce = 0)."""
    n_cols = q.shape[1]
    b = model.batch_size
    if n_cols % b:
        raise ValueError(f"q: {n_cols} columns is not a multiple of the batch size {b}")
    n = n_cols // b
    mp, pp = _tiled_arrays(model, n)
    l_mtu, arms = path_geometry(pp, q)
    l_ce = mus.equilibrium_fiber_length(l_mtu, activation, mp)
    force, _ = mus.tendon_force(l_mtu - l_ce, mp.l_slack, mp.f_max, mp.ref_strain)
    moment = muscle_generalized_forces(arms, force)
    lim = model.limits
    tau, _ = joint_limits.limit_torques(q[joint_limits.LIMITED_SLICE], np.zeros_like(q[joint_limits.LIMITED_SLICE]),
                                        _tile(lim.lower, n), _tile(lim.upper, n), _tile(lim.stiffness[None], n)[0],
                                        _tile(lim.w_max[None], n)[0])
    limit = np.zeros_like(moment)
    limit[joint_limits.LIMITED_SLICE] = tau
    return StaticState(l_ce / mp.l_opt, force, moment, limit)


def _postures(model: Model, fixed: Mapping[str, float], swept: str, angles: np.ndarray) -> np.ndarray:
    """(10, B*n) postures: every coordinate 0 except ``fixed`` ones, ``swept`` over ``angles`` (n,)."""
    b, n = model.batch_size, angles.size
    q = np.zeros((N_COORDINATES, b * n))
    for name, v in fixed.items():
        q[COORDINATES.index(name)] = v
    q[COORDINATES.index(swept)] = np.tile(angles, b)
    return q


def activation_rows(model: Model, level: float = MIN_EXCITATION,
                    extra: Mapping[str, object] | None = None, n: int = 1) -> np.ndarray:
    """(n_muscles, B*n) activations: ``level`` everywhere plus ``extra`` {muscle: scalar or (B,)}
    added, clipped to [0, 1]."""
    b = model.batch_size
    a = np.full((N_MUSCLES, b), float(level))
    for name, v in (extra or {}).items():
        a[muscle_index(name)] += np.broadcast_to(np.asarray(v, dtype=float), (b,))
    return _tile(np.clip(a, 0.0, 1.0), n)


def _first_crossing(angles: np.ndarray, resistance: np.ndarray, threshold: float) -> np.ndarray:
    """Angle (B,) where ``resistance`` (B, n) first reaches ``threshold`` along ``angles`` (n,),
    linearly interpolated; nan where it never does; angles[0] if it already does at the start."""
    above = resistance >= threshold
    hit = above.any(axis=1)
    k = np.argmax(above, axis=1)
    km = np.maximum(k - 1, 0)
    rows = np.arange(resistance.shape[0])
    r0, r1 = resistance[rows, km], resistance[rows, k]
    frac = np.where((k > 0) & (r1 != r0), (threshold - r0) / np.where(r1 != r0, r1 - r0, 1.0), 0.0)
    ang = angles[km] + frac * (angles[k] - angles[km])
    return np.where(hit, ang, np.nan)


def _check_side(side: str) -> str:
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, got {side!r}")
    return side


# ----- exams ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DorsiflexionRange:
    """Passive ankle dorsiflexion (Silfverskiold test [SI24]) on one side.

    angles: (B, n) ankle angle (rad, > 0 dorsiflexion). For the knee extended and flexed:
    ``*_muscle`` and ``*_total`` (B, n): resistance to dorsiflexion (N m, > 0 = plantarflexing
    moment) of the muscles alone and with the joint limit. ``range_extended``/``range_flexed`` (B,):
    the dorsiflexion angle (rad) where the total resistance reaches ``threshold`` (N m)."""

    side: str
    threshold: float
    knee_extended: float
    knee_flexed: float
    angles: np.ndarray
    extended_muscle: np.ndarray
    extended_total: np.ndarray
    flexed_muscle: np.ndarray
    flexed_total: np.ndarray
    range_extended: np.ndarray
    range_flexed: np.ndarray


def dorsiflexion_range(model: Model, side: str = "r", threshold: float = ANKLE_THRESHOLD,
                       angles: np.ndarray = ANKLE_ANGLES, knee_extended: float = KNEE_EXTENDED,
                       knee_flexed: float = KNEE_FLEXED, activation: float = MIN_EXCITATION) -> DorsiflexionRange:
    """Silfverskiold test of the relaxed model (module docstring); knee angles in rad."""
    side = _check_side(side)
    b, n = model.batch_size, angles.size
    ankle, knee = f"ankle_angle_{side}", f"knee_angle_{side}"
    row = COORDINATES.index(ankle)
    q = np.concatenate([_postures(model, {knee: k}, ankle, angles) for k in (knee_extended, knee_flexed)], axis=1)
    # two postures per walker-angle block: stack them as 2n "angles" per walker
    q = q.reshape(N_COORDINATES, 2, b, n).transpose(0, 2, 1, 3).reshape(N_COORDINATES, b * 2 * n)
    st = static_state(model, q, activation_rows(model, activation, n=2 * n))
    mus_m = -st.muscle_moment[row].reshape(b, 2, n)
    tot_m = -st.total_moment[row].reshape(b, 2, n)
    ang = np.broadcast_to(angles, (b, n)).copy()
    return DorsiflexionRange(side, threshold, knee_extended, knee_flexed, ang, mus_m[:, 0], tot_m[:, 0],
                             mus_m[:, 1], tot_m[:, 1], _first_crossing(angles, tot_m[:, 0], threshold),
                             _first_crossing(angles, tot_m[:, 1], threshold))


@dataclass(frozen=True)
class ThomasTest:
    """Passive hip extension with lumbar 0 and the pelvis fixed (Thomas test), one side.

    angles: (B, n) hip angle (rad, > 0 flexion), from flexion towards extension.
    muscle, total: (B, n) resistance to hip extension (N m, > 0 = hip flexion moment).
    hip_angle: (B,) the hip angle (rad) where the total resistance reaches ``threshold``; > 0
    means the thigh cannot reach the table (hip flexion contracture). psoas_lumbar_flexion: (B,)
    the lumbar flexion moment (N m, > 0 flexion) the psoas exerts at that hip angle.
    excitation_offset: the tone added to psoas/iliacus during the exam ({muscle: (B,)})."""

    side: str
    threshold: float
    knee: float
    angles: np.ndarray
    muscle: np.ndarray
    total: np.ndarray
    hip_angle: np.ndarray
    psoas_lumbar_flexion: np.ndarray
    excitation_offset: dict


def thomas_test(model: Model, side: str = "r", threshold: float = THOMAS_THRESHOLD,
                angles: np.ndarray = HIP_ANGLES, knee: float = THOMAS_KNEE,
                excitation_offset: Mapping[str, object] | None = None,
                activation: float = MIN_EXCITATION) -> ThomasTest:
    """Thomas test (module docstring). ``excitation_offset`` {muscle: scalar or (B,)} adds resting
    excitation (tone, e.g. ``impairments.impairment_changes(...).excitation_offset``); at steady
    state activation equals excitation, so the tone shows as an active hip flexion moment."""
    side = _check_side(side)
    b, n = model.batch_size, angles.size
    hip = f"hip_flexion_{side}"
    row = COORDINATES.index(hip)
    offset = {k: np.broadcast_to(np.asarray(v, float), (b,)).copy() for k, v in (excitation_offset or {}).items()}
    q = _postures(model, {f"knee_angle_{side}": knee}, hip, angles)
    st = static_state(model, q, activation_rows(model, activation, offset, n))
    res_m = st.muscle_moment[row].reshape(b, n)
    res_t = st.total_moment[row].reshape(b, n)
    hip_angle = _first_crossing(-angles, res_t, threshold)  # sweep runs towards extension
    hip_angle = -hip_angle
    # psoas force at that hip angle: one more equilibrium per walker
    q1 = np.zeros((N_COORDINATES, b))
    q1[COORDINATES.index(f"knee_angle_{side}")] = knee
    q1[row] = np.nan_to_num(hip_angle, nan=angles[-1])
    st1 = static_state(model, q1, activation_rows(model, activation, offset, 1))
    psoas = muscle_index(f"psoas_{side}")
    lumbar_arm = _pair_arm(model, f"psoas_{side}", "lumbar")  # (B,) m, < 0 = flexion
    flex = -lumbar_arm * st1.force[psoas]
    return ThomasTest(side, threshold, knee, np.broadcast_to(angles, (b, n)).copy(), res_m, res_t, hip_angle,
                      np.where(np.isfinite(hip_angle), flex, np.nan), offset)


def _pair_arm(model: Model, muscle: str, coordinate: str) -> np.ndarray:
    """(B,) constant moment arm (m) of a muscle about a coordinate (path pair amplitude r0)."""
    from .muscle_table import PAIR_NAMES

    return model.paths.r0[PAIR_NAMES.index(f"{muscle}@{coordinate}")]


@dataclass(frozen=True)
class AnkleStrength:
    """Isometric ankle strength at full activation, one side, knee at ``knee`` (rad).

    angles: (B, n) ankle angle (rad). dorsiflexor, plantarflexor: (B, n) net ankle moment (N m,
    > 0 in the tested direction) with tib_ant (resp. soleus + gastroc) at activation 1 and every
    other muscle at ``MIN_EXCITATION``; ``*_peak`` (B,) their maxima (N m) and ``*_peak_angle`` (B,)
    where (rad)."""

    side: str
    knee: float
    angles: np.ndarray
    dorsiflexor: np.ndarray
    plantarflexor: np.ndarray
    dorsiflexor_peak: np.ndarray
    dorsiflexor_peak_angle: np.ndarray
    plantarflexor_peak: np.ndarray
    plantarflexor_peak_angle: np.ndarray


def ankle_strength(model: Model, side: str = "r", angles: np.ndarray = STRENGTH_ANGLES,
                   knee: float = STRENGTH_KNEE) -> AnkleStrength:
    """Peak isometric dorsiflexor and plantarflexor moments over ``angles`` (rad)."""
    side = _check_side(side)
    b, n = model.batch_size, angles.size
    ankle = f"ankle_angle_{side}"
    row = COORDINATES.index(ankle)
    q = _postures(model, {f"knee_angle_{side}": knee}, ankle, angles)
    full = 1.0 - MIN_EXCITATION
    df = static_state(model, q, activation_rows(model, MIN_EXCITATION, {f"tib_ant_{side}": full}, n))
    pf = static_state(model, q, activation_rows(model, MIN_EXCITATION, {f"soleus_{side}": full,
                                                                         f"gastroc_{side}": full}, n))
    dfm = df.muscle_moment[row].reshape(b, n)
    pfm = -pf.muscle_moment[row].reshape(b, n)
    rows = np.arange(b)
    kd, kp = dfm.argmax(axis=1), pfm.argmax(axis=1)
    return AnkleStrength(side, knee, np.broadcast_to(angles, (b, n)).copy(), dfm, pfm, dfm[rows, kd], angles[kd],
                         pfm[rows, kp], angles[kp])


# ----- report --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExamReport:
    """All exams of one side of a batch of B walkers (SI inside; ``table()`` prints degrees)."""

    dorsiflexion: DorsiflexionRange
    thomas: ThomasTest
    strength: AnkleStrength

    def values(self) -> dict[str, np.ndarray]:
        """{measure: (B,)} in SI (rad, N m), keys as in ``NORMAL`` plus the psoas lumbar moment."""
        return {"df_knee_extended": self.dorsiflexion.range_extended,
                "df_knee_flexed": self.dorsiflexion.range_flexed,
                "thomas_hip": self.thomas.hip_angle,
                "psoas_lumbar_flexion": self.thomas.psoas_lumbar_flexion,
                "dorsiflexor_peak": self.strength.dorsiflexor_peak,
                "plantarflexor_peak": self.strength.plantarflexor_peak}

    def table(self) -> str:
        """Model values (one column per walker) beside the cited normal values. Clinical signs:
        ankle dorsiflexion +, Thomas hip angle as hip flexion (+ = thigh above the table)."""
        labels = {
            "df_knee_extended": f"ankle DF range, knee extended ({self.dorsiflexion.threshold:g} N m)",
            "df_knee_flexed": f"ankle DF range, knee flexed {-self.dorsiflexion.knee_flexed / _DEG:.0f} deg",
            "thomas_hip": f"Thomas test hip angle ({self.thomas.threshold:g} N m; + = flexed)",
            "psoas_lumbar_flexion": "  psoas lumbar flexion moment there",
            "dorsiflexor_peak": "peak isometric dorsiflexor moment",
            "plantarflexor_peak": f"peak isometric plantarflexor moment (knee {self.strength.knee / _DEG:.0f} deg)",
        }
        lines = [f"{'measure (side ' + self.dorsiflexion.side + ')':58s} {'model':>16s}   normal [source]"]
        for key, vals in self.values().items():
            angle = key in ("df_knee_extended", "df_knee_flexed", "thomas_hip")
            unit = "deg" if angle else "N m"
            shown = vals / _DEG if angle else vals
            model_txt = " ".join(f"{v:6.1f}" for v in np.atleast_1d(shown)) + f" {unit}"
            if key in NORMAL:
                v, _, src = NORMAL[key]
                norm = f"{(v / _DEG if angle else v):6.1f} {unit} [{src}]"
            else:
                norm = "-"
            lines.append(f"{labels[key]:58s} {model_txt:>16s}   {norm}")
        return "\n".join(lines)

    summary = table


def run_exams(model: Model, side: str = "r", excitation_offset: Mapping[str, object] | None = None) -> ExamReport:
    """Run every exam on one side of every walker; ``excitation_offset`` goes to the Thomas test."""
    return ExamReport(dorsiflexion_range(model, side), thomas_test(model, side, excitation_offset=excitation_offset),
                      ankle_strength(model, side))


__all__ = ["ANKLE_THRESHOLD", "THOMAS_THRESHOLD", "NORMAL", "StaticState", "static_state", "DorsiflexionRange",
           "dorsiflexion_range", "ThomasTest", "thomas_test", "AnkleStrength", "ankle_strength", "ExamReport",
           "run_exams", "activation_rows"]
