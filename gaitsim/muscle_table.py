"""Default muscle and path parameters, each with its source.

Sources
-------
[GH]  Geyer & Herr 2010 (IEEE TNSRE 18:263), values from H. Geyer's ``nms_model_MechInit.m``
      (2006), identical in S. Song's ``nms_MechInit.m`` and the CMU Python port
      (all three files list the same values).
[SG]  Song & Geyer 2015 (J Physiol 593:3493), S. Song's ``nms_MechInit.m`` (2014): rectus femoris.
[OS]  OpenSim gait2392 / gait10dof18musc generic model (Delp 1990; Anderson & Pandy 1999):
      erector spinae ``ercspn`` 2500 N per side, l_opt 0.12, l_slack 0.03; obliques ``intobl``/
      ``extobl`` 900 N each per side, l_opt 0.10/0.12, l_slack 0.10/0.14; psoas 1113 N and iliacus
      1073 N (gait2392_simbody.osim).
[SN]  2D projection of the gait2392 muscle paths (gait2392_simbody.osim, Delp 1990): erector spinae lumbar
      moment arm 4.3 cm at 0 deg; oblique flexion moment arm about 6 cm.
[BO]  Bogduk, Pearcy & Hadfield 1992 (Clin Biomech 7:109): psoas exerts only very small
      moments on the lumbar spine; we give it a 1 cm flexion arm (uncertain, see below).

Making Geyer & Herr's reduced geometry energy-consistent
--------------------------------------------------------
[GH] computes the joint torque with the moment arm ``r(phi)`` but the path-length change
with ``rho * r(phi)`` (rho < 1, a lumped pennation factor). Fibre work then differs from
joint work by 1/rho. gaitsim instead derives the moment arm from the path
(``r = -dl/dq``, virtual work): the path excursion is [GH]'s ``rho r``, so fibres operate
over exactly [GH]'s normalized range, and the force capacity is taken as ``F_max / rho`` so
that the maximal joint torque ``rho r F_max/rho = r F_max`` is also [GH]'s. Normalized fibre
length, velocity and force, and joint torques, are then identical to [GH]'s model.
For rectus femoris, whose [SG] rho differs between hip (0.3) and knee (0.5), F_max is divided
by the knee rho: its knee torque matches [SG], its hip torque is 60 % of [SG]'s.

The path's reference length ``l_ref`` is [GH]'s calibration: at the reference posture the
fibre is at optimal length and the tendon just slack (``l_ref = l_opt + l_slack``). It is a
geometric parameter: changing ``tendon_slack_length`` or ``optimal_fiber_length`` later changes
where the fibres operate, never the path.

Angles: [GH] uses inner joint angles (hip 180 deg straight and larger in extension; knee
180 deg straight; ankle 90 deg neutral and larger in plantarflexion). Converted to OpenSim
coordinates: hip_flexion = 180 deg - phi_hip; knee_angle = phi_knee - 180 deg;
ankle_angle = 90 deg - phi_ankle.

Body size: lengths and moment arms scale with this body's thigh+shank length over [GH]'s
(0.5 + 0.5 m); forces scale with (body mass / 80 kg)^(2/3) ([GH]'s body is 80 kg;
geometric similarity, force ~ area ~ mass^(2/3)).
"""

from __future__ import annotations

import numpy as np

from .names import LEG_MUSCLES, MUSCLES, SIDES, TRUNK_MUSCLES

GH_BODY_MASS = 80.0  # kg [GH]
GH_LEG_LENGTH = 1.0  # m, thigh 0.5 + shank 0.5 [GH]

_deg = np.pi / 180.0

# name: (F_max N, l_opt m, l_slack m, v_max l_opt/s, rho, source)
# F_max listed here is already the energy-consistent F_max/rho (module docstring).
_LEG = {
    # [GH] HFL 2000 N / rho 0.5, split between psoas and iliacus in the [OS] proportion 1113 : 1073
    "psoas": (4000.0 * 1113.0 / 2186.0, 0.11, 0.10, 12.0, "GH HFL, split by OS psoas:iliacus"),
    "iliacus": (4000.0 * 1073.0 / 2186.0, 0.11, 0.10, 12.0, "GH HFL, split by OS psoas:iliacus"),
    "glut_max": (1500.0 / 0.5, 0.11, 0.13, 12.0, "GH GLU"),
    "hamstrings": (3000.0 / 0.7, 0.10, 0.31, 12.0, "GH HAM"),
    "rect_fem": (1200.0 / 0.5, 0.08, 0.35, 12.0, "SG RF"),
    "vasti": (6000.0 / 0.7, 0.08, 0.23, 12.0, "GH VAS"),
    "gastroc": (1500.0 / 0.7, 0.05, 0.40, 12.0, "GH GAS"),
    "soleus": (4000.0 / 0.5, 0.04, 0.26, 6.0, "GH SOL"),
    "tib_ant": (800.0 / 0.7, 0.06, 0.24, 12.0, "GH TA"),
}
_TRUNK = {
    # lumped left+right [OS]: 2 x 2500 N; l_opt, l_slack of ercspn
    "erector_spinae": (5000.0, 0.12, 0.03, 12.0, "OS ercspn x2 sides; v_max as GH"),
    # lumped left+right internal+external obliques [OS]: 4 x 900 N; mean l_opt, l_slack
    "abdominals": (3600.0, 0.11, 0.12, 12.0, "OS intobl+extobl x2 sides; v_max as GH"),
}

# Path pairs: (muscle, coordinate suffix, kind, signed r0 (m), q_max (rad), q_ref (rad), source)
# r0 > 0: the muscle's tension drives the coordinate positive. r0 here is [GH]'s rho*r0.
_LEG_PAIRS = [
    ("psoas", "lumbar", "const", -0.01, 0.0, 0.0, "BO: very small lumbar moment; 1 cm flexion (uncertain)"),
    ("psoas", "hip_flexion", "const", 0.5 * 0.10, 0.0, 0.0, "GH HFL: r0 0.10, rho 0.5, phi_ref 180 deg"),
    ("iliacus", "hip_flexion", "const", 0.5 * 0.10, 0.0, 0.0, "GH HFL"),
    ("glut_max", "hip_flexion", "const", -0.5 * 0.10, 0.0, 30 * _deg, "GH GLU: r0 0.10, rho 0.5, phi_ref 150"),
    ("hamstrings", "hip_flexion", "const", -0.7 * 0.08, 0.0, 25 * _deg, "GH HAM hip: 0.08, rho 0.7, phi_ref 155"),
    ("hamstrings", "knee_angle", "cos", -0.7 * 0.05, 0.0, 0.0, "GH HAM knee: 0.05, phi_max 180, phi_ref 180"),
    ("rect_fem", "hip_flexion", "const", 0.3 * 0.08, 0.0, 10 * _deg, "SG RF hip: 0.08, rho 0.3, phi_ref 170"),
    ("rect_fem", "knee_angle", "cos", 0.5 * 0.06, -15 * _deg, -55 * _deg,
     "SG RF knee: r_max 0.06, phi_max 165, phi_ref 125, rho 0.5 (GH cosine law)"),
    ("vasti", "knee_angle", "cos", 0.7 * 0.06, -15 * _deg, -55 * _deg, "GH VAS: 0.06, phi_max 165, phi_ref 125"),
    ("gastroc", "knee_angle", "cos", -0.7 * 0.05, -40 * _deg, -15 * _deg, "GH GAS knee: 0.05, phi_max 140, ref 165"),
    ("gastroc", "ankle_angle", "cos", -0.7 * 0.05, -20 * _deg, 10 * _deg, "GH GAS ankle: 0.05, phi_max 110, ref 80"),
    ("soleus", "ankle_angle", "cos", -0.5 * 0.05, -20 * _deg, 10 * _deg, "GH SOL: 0.05, phi_max 110, ref 80"),
    ("tib_ant", "ankle_angle", "cos", 0.7 * 0.04, 10 * _deg, -20 * _deg, "GH TA: 0.04, phi_max 80, ref 110"),
]
_TRUNK_PAIRS = [
    ("erector_spinae", "lumbar", "const", 0.043, 0.0, 0.0, "SN ercspn 4.3 cm at 0 deg"),
    ("abdominals", "lumbar", "const", -0.06, 0.0, 0.0, "SN obliques about 6 cm"),
]


def reference_lengths(muscle: str) -> tuple[float, float]:
    """(l_opt, l_slack) in m of a leg muscle stem (e.g. "soleus") before body scaling [GH]."""
    if muscle not in _LEG:
        raise ValueError(f"unknown leg muscle {muscle!r}; allowed: {', '.join(_LEG)}")
    return _LEG[muscle][1], _LEG[muscle][2]


def _muscle_rows():
    rows = {}
    for side in SIDES:
        for m in LEG_MUSCLES:
            rows[f"{m}_{side}"] = _LEG[m]
    for m in TRUNK_MUSCLES:
        rows[m] = _TRUNK[m]
    return rows


def path_pairs():
    """List of (muscle, coordinate, is_cosine, r0, q_max, q_ref, source) over both legs and the trunk."""
    pairs = []
    for side in SIDES:
        for m, coord, kind, r0, qmax, qref, src in _LEG_PAIRS:
            c = coord if coord == "lumbar" else f"{coord}_{side}"
            pairs.append((f"{m}_{side}", c, kind == "cos", r0, qmax, qref, src))
    for m, coord, kind, r0, qmax, qref, src in _TRUNK_PAIRS:
        pairs.append((m, coord, kind == "cos", r0, qmax, qref, src))
    return pairs


PAIRS = path_pairs()
PAIR_NAMES = tuple(f"{m}@{c}" for m, c, *_ in PAIRS)


def muscle_defaults(body_mass: np.ndarray, leg_length: np.ndarray) -> dict[str, np.ndarray]:
    """Batch-first default muscle and path parameters for per-walker body mass (kg) and leg length (m)."""
    rows = _muscle_rows()
    fs = ((np.asarray(body_mass, float) / GH_BODY_MASS) ** (2.0 / 3.0))[:, None]
    ls = (np.asarray(leg_length, float) / GH_LEG_LENGTH)[:, None]
    tab = np.array([rows[m][:4] for m in MUSCLES])  # (n, 4)
    f_max, l_opt, l_slack, v_max = (tab[:, i][None, :] for i in range(4))
    r0 = np.array([p[3] for p in PAIRS])[None, :]
    return {
        "muscle.max_isometric_force": f_max * fs,
        "muscle.optimal_fiber_length": l_opt * ls,
        "muscle.tendon_slack_length": l_slack * ls,
        "muscle.max_contraction_velocity": np.broadcast_to(v_max, fs.shape[:1] + v_max.shape[1:]).copy(),
        "muscle.tendon_reference_strain": np.full((fs.shape[0], len(MUSCLES)), 0.04),  # [GH]
        "muscle.passive_stiffness": np.ones((fs.shape[0], len(MUSCLES))),  # [GH] k_pe = 1
        "muscle.activation_time_constant": np.full((fs.shape[0], len(MUSCLES)), 0.01),  # [GH] 10 ms
        "path.reference_length": (l_opt + l_slack) * ls,
        "path.moment_arm": r0 * ls,
        "path.angle_at_max_arm": np.broadcast_to(np.array([p[4] for p in PAIRS]), (fs.shape[0], len(PAIRS))).copy(),
        "path.reference_angle": np.broadcast_to(np.array([p[5] for p in PAIRS]), (fs.shape[0], len(PAIRS))).copy(),
    }
