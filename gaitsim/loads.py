"""Pure, batched load and energy functions: lumbar joint load from a trunk free body, muscle
work, and a muscle metabolic-energy model.

Everything is SI (N, m, s, J, W, kg, rad); arrays are batch-first: a leading walker axis ``B``
followed by any time axes, e.g. ``q`` of shape (B, T, 10) or (B, 10).

Lumbar load (``lumbar_load``)
-----------------------------
gaitsim's muscles act through moment-arm paths (generalized forces), not attachment points, so
the skeleton's own lumbar reaction contains gravity and inertia only. The contact load also
carries the compression of every muscle force that crosses the joint. It follows from a free
body of the torso (the body above the lumbar joint, ``BODIES[1]``)::

    R = m_T (a_C - g) - sum_k F_k                      (N, world frame)

with R the force of the pelvis on the torso at the lumbar joint, m_T the torso mass, a_C the
acceleration of its centre of mass (from q, qdot, qddot; ``torso_com_acceleration``),
g = (0, -gravity) and F_k the force of muscle k on the torso. R is expressed in the torso frame
(long axis e_long = R(theta_T) (0, 1), anterior axis e_ap = R(theta_T) (1, 0), theta_T =
pelvis_tilt + lumbar):

* compression = R . e_long (positive: compressive);
* shear = -R . e_ap, positive = anterior shear (the trunk is pushed forward on the pelvis and the
  joint holds it back: the load that tends to slide the superior segment anteriorly).

Lines of action (assumptions; each force on the torso, unit vectors):

* erector spinae and abdominals: along the trunk long axis, pulling the torso toward the pelvis
  (-e_long). In OpenSim gait2392 (Delp et al. 1990) ``ercspn_r`` runs from the pelvis
  (-0.14, 0.0439) to the torso (-0.055, 0.11), 6 deg from the trunk axis at zero lumbar angle;
  the obliques are likewise nearly parallel to it in the sagittal projection. Their lumbar
  moments are the model's moment-arm moments; the force balance needs only their direction.
* psoas (``psoas_r``, ``psoas_l``): from its lumbar origin toward its deflection over the pelvic
  brim, a direction fixed in the *pelvis* frame (so in the trunk frame it turns with the lumbar
  angle). We take it from gait2392's psoas path: origin ``psoas_r-P1`` (-0.0647, 0.0887) to the
  brim point ``psoas_r-P2`` (-0.0238, -0.0570), pelvis frame: 15.7 deg anterior of straight down
  (``PSOAS_DIRECTION_PELVIS``). Bogduk, Pearcy & Hadfield 1992 (Clin Biomech 7:109) found that
  psoas fascicles run close to the line of the lumbar spine and load it mainly in compression and
  shear, with very small moments: consistent with this near-axial, slightly anterior line.

The torso's centre-of-mass acceleration is computed analytically from q, qdot and qddot;
``gait_measures`` obtains qddot by second-order central differences of the saved qdot (the
saved sampling, 2 ms in the shipped runs; the impacts at heel strike are then smoothed over one
interval), or recomputes it from the saved forces (``skeleton_accelerations``).

Metabolic model (``umberger2010_rate``)
---------------------------------------
Umberger, Gerritsen & Martin 2003 (Comput Methods Biomech Biomed Eng 6:99) with the two changes
of Umberger 2010 (J R Soc Interface 7:1329): lengthening heat coefficient 0.3 alpha_S(ST)
(2003: 4 alpha_S(ST)) and no credit for negative contractile work. The total heat rate of a
muscle is not allowed below 1 W/kg (OpenSim ``Umberger2010MuscleMetabolicsProbe``,
``enforce_minimum_heat_rate_per_muscle``). Muscle mass m = F_max / sigma * rho * l_opt with
sigma = 0.25 MPa and rho = 1059.7 kg/m^3 (Umberger et al. 2003; SCONE and OpenSim defaults).
"""

from __future__ import annotations

import numpy as np

from .names import COORDINATES, MUSCLES, SIDES

# --- constants with sources ------------------------------------------------------------------

#: specific tension (Pa) and muscle density (kg/m^3): Umberger et al. 2003; OpenSim/SCONE defaults
SPECIFIC_TENSION = 0.25e6
MUSCLE_DENSITY = 1059.7
#: aerobic scaling factor S of the heat rates (Umberger et al. 2003: 1.5 aerobic, 1.0 anaerobic)
AEROBIC_S = 1.5
#: minimum total heat rate per muscle, W/kg of muscle (OpenSim Umberger2010MuscleMetabolicsProbe)
MIN_HEAT_RATE = 1.0
#: whole-body basal metabolic rate, W/kg body mass (Uchida et al. 2016, PLoS ONE 11:e0150378;
#: OpenSim Umberger2010MuscleMetabolicsProbe basal_coefficient 1.2)
BASAL_RATE = 1.2

#: slow-twitch fibre fraction per gaitsim muscle (stem), from Uchida et al. 2016 (their table of
#: Johnson et al. 1973, J Neurol Sci 18:111, as used in Falisse et al.'s 3dpredictsim
#: ``getSlowTwitchRatios.m``; 0.5 where no data). Lumped gaitsim muscles take the mean of their
#: OpenSim parts: hamstrings = mean(semimem 0.4925, semiten 0.425, bifemlh 0.5425); vasti =
#: mean(vas_med 0.503, vas_int 0.543, vas_lat 0.455); gastroc = mean(med 0.566, lat 0.507);
#: abdominals = mean(intobl 0.56, extobl 0.58).
SLOW_TWITCH = {
    "psoas": 0.50, "iliacus": 0.50, "glut_max": 0.55, "hamstrings": 0.487, "rect_fem": 0.3865,
    "vasti": 0.500, "gastroc": 0.5365, "soleus": 0.803, "tib_ant": 0.70,
    "erector_spinae": 0.60, "abdominals": 0.57,
}

#: peak L3-L4 compression in level walking, BW (Cappozzo 1984, "Compressive loads in
#: the lumbar vertebral column during normal level walking": maximum 1.0 to 2.5 BW as speed rises,
#: from a trunk model driven by measured motion)
CAPPOZZO_PEAK_BW = (1.0, 2.5)

#: psoas line of action on the lumbar spine, unit vector in the pelvis frame (module docstring):
#: gait2392 psoas_r-P1 (-0.0647, 0.0887) -> psoas_r-P2 (-0.0238, -0.0570) (Delp et al. 1990)
_PSOAS_VEC = np.array([-0.0238 - (-0.0647), -0.0570 - 0.0887])
PSOAS_DIRECTION_PELVIS = _PSOAS_VEC / np.linalg.norm(_PSOAS_VEC)

_I_TX, _I_TY, _I_TILT, _I_LUMBAR = (COORDINATES.index(c) for c in ("pelvis_tx", "pelvis_ty", "pelvis_tilt", "lumbar"))
_I_ES, _I_ABD = MUSCLES.index("erector_spinae"), MUSCLES.index("abdominals")
_I_PSOAS = tuple(MUSCLES.index(f"psoas_{s}") for s in SIDES)


def slow_twitch_fractions() -> np.ndarray:
    """(n_muscles,) slow-twitch fraction of each muscle in ``names.MUSCLES`` order (``SLOW_TWITCH``)."""
    return np.array([SLOW_TWITCH[m if m in SLOW_TWITCH else m.rsplit("_", 1)[0]] for m in MUSCLES])


# --- torso free body ----------------------------------------------------------------------------


def _per_walker(v, ndim: int) -> np.ndarray:
    """(B,) parameter reshaped to broadcast against arrays with ``ndim`` leading axes (B, T...)."""
    v = np.asarray(v, dtype=float)
    return v.reshape(v.shape + (1,) * (ndim - 1))


def torso_parameters(model) -> dict[str, np.ndarray]:
    """Per walker (B,): torso mass (kg), centre of mass (m, torso frame), lumbar joint centre
    (m, pelvis frame) and gravity (m/s^2), read from ``model.params`` (2D_gait.osim, scaled)."""
    p = model.params
    return {"mass": p["body.segment_mass"][:, 1], "com_x": p["body.segment_com_x"][:, 1],
            "com_y": p["body.segment_com_y"][:, 1], "joint_x": p["body.joint_x"][:, 0],
            "joint_y": p["body.joint_y"][:, 0], "gravity": p["body.gravity"]}


def _rot(c, s, x, y):
    """Rotate (x, y) by the angle with cosine c and sine s."""
    return c * x - s * y, s * x + c * y


def torso_com_acceleration(q, qdot, qddot, model) -> np.ndarray:
    """Acceleration (m/s^2) of the torso's centre of mass, (..., 2) for q, qdot, qddot (B, ..., 10).

    p_C = (x, y) + R(theta_P) j + R(theta_T) c with j the lumbar joint (pelvis frame), c the torso
    CoM (torso frame), theta_P = pelvis_tilt, theta_T = pelvis_tilt + lumbar; each rotating vector
    r contributes R(theta) (E r thetaddot - r thetadot^2), E the +90 deg rotation.
    """
    q, qdot, qddot = (np.asarray(a, dtype=float) for a in (q, qdot, qddot))
    tp = torso_parameters(model)
    nd = q.ndim - 1
    jx, jy, cx, cy = (_per_walker(tp[k], nd) for k in ("joint_x", "joint_y", "com_x", "com_y"))
    out = np.stack([qddot[..., _I_TX], qddot[..., _I_TY]], axis=-1)
    for angle, rate, acc, (rx, ry) in (
            (q[..., _I_TILT], qdot[..., _I_TILT], qddot[..., _I_TILT], (jx, jy)),
            (q[..., _I_TILT] + q[..., _I_LUMBAR], qdot[..., _I_TILT] + qdot[..., _I_LUMBAR],
             qddot[..., _I_TILT] + qddot[..., _I_LUMBAR], (cx, cy))):
        lx = -ry * acc - rx * rate**2  # E r thetaddot - r thetadot^2, body frame
        ly = rx * acc - ry * rate**2
        ax, ay = _rot(np.cos(angle), np.sin(angle), lx, ly)
        out[..., 0] += ax
        out[..., 1] += ay
    return out


def torso_axes(q) -> tuple[np.ndarray, np.ndarray]:
    """Unit long axis e_long and anterior axis e_ap of the torso in the world, each (..., 2)."""
    th = np.asarray(q)[..., _I_TILT] + np.asarray(q)[..., _I_LUMBAR]
    c, s = np.cos(th), np.sin(th)
    return np.stack([-s, c], axis=-1), np.stack([c, s], axis=-1)


def lumbar_muscle_forces(q, muscle_force) -> dict[str, np.ndarray]:
    """Force (N, world, (..., 2)) of each muscle crossing the lumbar joint on the torso.

    Keys ``erector_spinae``, ``abdominals``, ``psoas_r``, ``psoas_l``; lines of action in the
    module docstring. muscle_force: (B, ..., n_muscles) tendon forces (N, >= 0).
    """
    q = np.asarray(q, dtype=float)
    f = np.asarray(muscle_force, dtype=float)
    e_long, _ = torso_axes(q)
    out = {"erector_spinae": -f[..., _I_ES, None] * e_long, "abdominals": -f[..., _I_ABD, None] * e_long}
    c, s = np.cos(q[..., _I_TILT]), np.sin(q[..., _I_TILT])
    dx, dy = _rot(c, s, *PSOAS_DIRECTION_PELVIS)
    d = np.stack([dx, dy], axis=-1)
    for side, k in zip(SIDES, _I_PSOAS):
        out[f"psoas_{side}"] = f[..., k, None] * d
    return out


def lumbar_load_parts(q, qdot, qddot, muscle_force, model) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Compression and anterior shear (N) at the lumbar joint, split by cause.

    Returns {part: (compression, shear)}, each (B, ...), for ``body`` (gravity and inertia of the
    torso: the skeleton's own joint reaction) and every muscle of ``lumbar_muscle_forces``; the
    parts add up to ``lumbar_load``. Shapes: q, qdot, qddot (B, ..., 10) (m, rad; m/s, rad/s;
    m/s^2, rad/s^2); muscle_force (B, ..., n_muscles) N.
    """
    q = np.asarray(q, dtype=float)
    tp = torso_parameters(model)
    nd = q.ndim - 1
    m, g = _per_walker(tp["mass"], nd)[..., None], _per_walker(tp["gravity"], nd)
    e_long, e_ap = torso_axes(q)
    body = m * torso_com_acceleration(q, qdot, qddot, model)
    body[..., 1] += m[..., 0] * g  # m (a - g) with g = (0, -gravity)
    parts = {"body": body}
    parts.update({k: -v for k, v in lumbar_muscle_forces(q, muscle_force).items()})  # R = ... - F
    return {k: ((r * e_long).sum(axis=-1), -(r * e_ap).sum(axis=-1)) for k, r in parts.items()}


def lumbar_load(q, qdot, qddot, muscle_force, model) -> tuple[np.ndarray, np.ndarray]:
    """(compression, shear) at the lumbar joint in N, each (B, ...); compression > 0 compressive,
    shear > 0 anterior (module docstring for the free body and the lines of action)."""
    parts = lumbar_load_parts(q, qdot, qddot, muscle_force, model)
    comp = sum(p[0] for p in parts.values())
    shear = sum(p[1] for p in parts.values())
    return comp, shear


def skeleton_accelerations(q, qdot, generalized_force, contact_force, model) -> np.ndarray:
    """Coordinate accelerations (B, T, 10) recomputed from the skeleton's equations of motion.

    q, qdot: (B, T, 10); generalized_force: (B, T, 10) joint-space forces (N, N m), e.g.
    muscle_moment + limit_moment; contact_force: (B, T, 4, 2) contact-sphere forces
    (tangential x, normal y; N) applied at the sphere centres, as ``dynamics.accelerations``
    applies them (without its implicit damping correction of a step). One walker at a time.
    """
    from . import skeleton
    from .model import select_walkers

    q, qdot = np.asarray(q, float), np.asarray(qdot, float)
    out = np.empty_like(q)
    for i in range(q.shape[0]):  # per walker: its constants broadcast over the time samples
        mi = select_walkers(model, i)
        psi, psidot = skeleton.abs_from_rel(q[i].T), skeleton.abs_from_rel(qdot[i].T)
        M, bias, (cs, sn) = skeleton.mass_matrix_and_forces(mi.skeleton, psi, psidot)
        _, _, jac = skeleton.foot_point_kinematics(mi.skeleton, psi, psidot, cs, sn, mi.contact.sphere_x,
                                                   mi.contact.sphere_y)
        Q = skeleton.abs_forces_from_rel(np.asarray(generalized_force[i], float).T)
        f = np.moveaxis(np.asarray(contact_force[i], float), 0, -1).reshape(2, 2, 2, -1)  # (legs, spheres, xy, T)
        ft, fn = f[:, :, 0], f[:, :, 1]
        gen = (jac[0] * ft[:, :, None] + jac[1] * fn[:, :, None]).sum(axis=1)  # (legs, 4 links, T)
        Q[0] += ft.sum(axis=(0, 1))
        Q[1] += fn.sum(axis=(0, 1))
        Q[2] += gen[0, 0] + gen[1, 0]
        Q[4:7] += gen[0, 1:]
        Q[7:10] += gen[1, 1:]
        out[i] = skeleton.rel_from_abs(skeleton.solve_tree(M, bias + Q)).T
    return out


# --- work ----------------------------------------------------------------------------------------


def cumulative_integral(time, signal) -> np.ndarray:
    """Trapezoidal running integral of ``signal`` (..., T) over ``time`` (T,), 0 at time[0]."""
    t = np.asarray(time, dtype=float)
    y = np.asarray(signal, dtype=float)
    inc = 0.5 * (y[..., 1:] + y[..., :-1]) * np.diff(t)
    return np.concatenate([np.zeros(y.shape[:-1] + (1,)), np.cumsum(inc, axis=-1)], axis=-1)


def interval_integral(time, signal, start, end) -> np.ndarray:
    """Integral of ``signal`` (T,) over each interval [start_k, end_k] (s), trapezoidal on the
    samples with linear interpolation at the interval ends; start, end: (K,) -> (K,)."""
    c = cumulative_integral(time, signal)
    return np.interp(end, time, c) - np.interp(start, time, c)


def positive_negative_work(time, power, start, end) -> tuple[np.ndarray, np.ndarray]:
    """(positive, negative) work (J) of ``power`` (T,) W over each interval [start_k, end_k] (s).

    The positive and negative parts are integrated separately (the sign change inside a sample
    interval is resolved by inserting the zero crossing), so positive + negative = net work."""
    t, p = _with_zero_crossings(np.asarray(time, float), np.asarray(power, float))
    return (interval_integral(t, np.maximum(p, 0.0), start, end),
            interval_integral(t, np.minimum(p, 0.0), start, end))


def _with_zero_crossings(t, p):
    """Samples plus the linearly interpolated zero crossings of p between them."""
    k = np.flatnonzero(p[:-1] * p[1:] < 0.0)
    if k.size == 0:
        return t, p
    tz = t[k] - p[k] * (t[k + 1] - t[k]) / (p[k + 1] - p[k])
    order = np.argsort(np.concatenate([t, tz]), kind="stable")
    return np.concatenate([t, tz])[order], np.concatenate([p, np.zeros_like(tz)])[order]


# --- metabolic energy ---------------------------------------------------------------------------


def muscle_mass(f_max, l_opt, specific_tension: float = SPECIFIC_TENSION, density: float = MUSCLE_DENSITY):
    """Muscle mass (kg) = F_max / sigma * rho * l_opt (PCSA x optimal fibre length x density).

    f_max (N), l_opt (m); sigma = 0.25 MPa, rho = 1059.7 kg/m^3 (Umberger et al. 2003).
    gaitsim's F_max is Geyer & Herr's F_max divided by their pennation/lever factor rho
    (``muscle_table`` docstring), so these masses are those of that force capacity."""
    return np.asarray(f_max, float) / specific_tension * density * np.asarray(l_opt, float)


def umberger2010_rate(excitation, activation, l_norm, v_norm, f_ce, f_iso, mass, slow_twitch, v_max, *,
                      l_opt=None, min_heat_rate: float | None = MIN_HEAT_RATE, s: float = AEROBIC_S) -> dict:
    """Metabolic power (W) of muscles, Umberger et al. 2003 with Umberger 2010's changes.

    All inputs broadcast together (e.g. (B, T, n_muscles)):
    excitation u, activation a (-); l_norm = l_ce / l_opt (-); v_norm = v_ce / l_opt in l_opt/s,
    positive lengthening; f_ce: contractile-element force (N, active force a f_L f_V F_max, no
    passive part); f_iso: active force-length factor f_L(l_norm) (-); mass (kg); slow_twitch:
    fraction of slow-twitch fibres (-); v_max: maximal shortening velocity of the fast fibres
    (l_opt/s; slow fibres v_max / 2.5); l_opt (m) converts v_norm to m/s for the work rate.
    min_heat_rate: floor of the total heat rate, W/kg of muscle (None: no floor).

    Terms, W/kg muscle (Umberger et al. 2003, eqs. for A, H_AM, H_SL, W_CE):
      A = u if u > a else (u + a) / 2
      H_AM = (128 f_FT + 25) A^0.6 S,  times (0.4 + 0.6 f_iso) if l_norm > 1
      shortening: H_SL = -(alpha_ST f_ST + alpha_FT f_FT) v_norm A^2 S,  alpha_ST = 100 / v_max_ST,
                  alpha_FT = 153 / v_max;  lengthening: H_SL = 0.3 alpha_ST v_norm A S (Umberger 2010);
                  both times f_iso if l_norm > 1
      W_CE = max(0, -f_ce v_ce) / mass (Umberger 2010: negative work not credited)
    Returns {"total", "activation_maintenance", "shortening_lengthening", "work"} in W.
    """
    u, a = np.asarray(excitation, float), np.asarray(activation, float)
    l_norm, v_norm, f_iso = np.asarray(l_norm, float), np.asarray(v_norm, float), np.asarray(f_iso, float)
    f_st = np.asarray(slow_twitch, float)
    f_ft = 1.0 - f_st
    big_a = np.where(u > a, u, 0.5 * (u + a))
    long_fibre = l_norm > 1.0
    h_am = (128.0 * f_ft + 25.0) * big_a**0.6 * s
    h_am = np.where(long_fibre, (0.4 + 0.6 * f_iso) * h_am, h_am)
    v_max_ft = np.asarray(v_max, float)
    alpha_st = 100.0 / (v_max_ft / 2.5)  # 4 x 25 W/kg per v_max_ST
    alpha_ft = 153.0 / v_max_ft
    short = -(alpha_st * f_st + alpha_ft * f_ft) * v_norm * big_a**2 * s
    lengthen = 0.3 * alpha_st * v_norm * big_a * s
    h_sl = np.where(v_norm <= 0.0, short, lengthen)
    h_sl = np.where(long_fibre, f_iso * h_sl, h_sl)
    heat = h_am + h_sl
    if min_heat_rate is not None:
        heat = np.maximum(heat, min_heat_rate)
    m = np.asarray(mass, float)
    v_ce = v_norm * (1.0 if l_opt is None else np.asarray(l_opt, float))
    work = np.maximum(0.0, -np.asarray(f_ce, float) * v_ce)  # W
    return {"total": heat * m + work, "activation_maintenance": h_am * m, "shortening_lengthening": h_sl * m,
            "work": work}


def metabolic_power(res_like: dict, model) -> np.ndarray:
    """(B, T, n_muscles) metabolic power (W) of every muscle from saved results fields.

    res_like: mapping with ``activation``, ``fiber_length`` (m), ``fiber_velocity`` (m/s) and
    optionally ``excitation`` (else u = a), each (B, T, n_muscles). The contractile force is
    a f_L f_V F_max (``gaitsim.muscles`` curves); masses from ``muscle_mass``; slow-twitch
    fractions ``SLOW_TWITCH``.
    """
    from .muscles import force_length, force_velocity

    a = np.asarray(res_like["activation"], float)
    u = np.asarray(res_like["excitation"], float) if "excitation" in res_like else a
    mp = model.params
    f_max = mp["muscle.max_isometric_force"][:, None, :]
    l_opt = mp["muscle.optimal_fiber_length"][:, None, :]
    v_max = mp["muscle.max_contraction_velocity"][:, None, :]
    l_norm = np.asarray(res_like["fiber_length"], float) / l_opt
    v_norm = np.asarray(res_like["fiber_velocity"], float) / l_opt
    f_l = force_length(l_norm)
    f_ce = a * f_l * force_velocity(v_norm / v_max) * f_max
    rate = umberger2010_rate(u, a, l_norm, v_norm, f_ce, f_l, muscle_mass(f_max, l_opt), slow_twitch_fractions(),
                             v_max, l_opt=l_opt)
    return rate["total"]


__all__ = ["CAPPOZZO_PEAK_BW", "lumbar_load", "lumbar_load_parts", "lumbar_muscle_forces", "torso_com_acceleration", "torso_axes",
           "torso_parameters", "skeleton_accelerations", "cumulative_integral", "interval_integral",
           "positive_negative_work", "muscle_mass",
           "umberger2010_rate", "metabolic_power", "slow_twitch_fractions", "SLOW_TWITCH", "BASAL_RATE",
           "PSOAS_DIRECTION_PELVIS", "SPECIFIC_TENSION", "MUSCLE_DENSITY"]
