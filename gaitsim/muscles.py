"""Hill-type musculotendon units (Geyer & Herr 2010 formulation), vectorized over (n_muscles, B).

Each unit has a contractile element (CE) with force-length and force-velocity
relations, a parallel elastic element (PE), a buffer element (BE) that resists
over-shortening, and a compliant series-elastic tendon (SE). The states are the
activation ``a`` (first-order excitation-contraction dynamics) and the CE fiber
length ``l_ce`` (m). The CE velocity follows from force equilibrium
``F_SE + F_BE = f_V(v) (a f_L F_max + F_PE)`` (the "PE*" form in which the PE is
scaled by f_V like the CE, used by the Geyer-Herr ports: H. Geyer's ``nms_model_MechInit.m``).

Curves (Geyer, Seyfarth & Blickhan 2003 Proc R Soc B 270:2173; Geyer & Herr 2010
IEEE TNSRE 18:263; constants from H. Geyer's ``nms_model_MechInit.m``):

* force-length  f_L = exp(c |(l~ - 1)/w|^3), w = 0.56, c = ln(0.05);
* force-velocity (v~ = v_ce/(v_max l_opt), negative when shortening)
  shortening  f_V = (1 + v~)/(1 - K v~);  lengthening  f_V = N + (N - 1)(v~ - 1)/(7.56 K v~ + 1),
  N = 1.5, K = 5;
* tendon  F_SE = F_max (eps/eps_ref)^2 for eps = (l_se - l_slack)/l_slack > 0, eps_ref = 0.04;
* parallel element  F_PE = k_pe F_max ((l~ - 1)/w)^2 for l~ > 1 (k_pe = 1 in the published model;
  ``passive_stiffness`` scales it);
* buffer element  F_BE = F_max ((l~ - (1 - w))/(w/2))^2 for l~ < 1 - w.

The inverse of f_V is taken on the hyperbola up to f_V = N and continued linearly with
the hyperbola's slope there (77.6), so ``v_ce`` stays finite for any force, including
zero force and minimum activation (a division by zero in the inverted force-velocity curve). A tiny term
``1e-6 F_max`` keeps the denominator positive if f_L underflows.
"""

from __future__ import annotations

import numpy as np

#: stimulation floor and ceiling of every muscle (Geyer & Herr 2010: pre-stimulation 0.01)
MIN_EXCITATION = 0.01

# Geyer & Herr 2010 shared muscle constants ([GH-M] H. Geyer's nms_model_MechInit.m)
FL_WIDTH = 0.56  # w, in l_opt
FL_C = np.log(0.05)  # c: f_L = 0.05 at l~ = 1 +/- w
FV_N = 1.5  # eccentric force enhancement N
FV_K = 5.0  # curvature K
FV_ECC_SHAPE = 7.56  # factor in the lengthening branch
#: hyperbola -> linear switch point of the f_V inversion and the slope there (dv~/df_V)
_F_SWITCH = FV_N
_SLOPE_SWITCH = ((FV_N - 1.0) + FV_ECC_SHAPE * FV_K * (FV_N - 1.0)) / (FV_N - 1.0) ** 2
_DEN_EPS = 1e-6
#: 1/w and 1/(w/2): the hot path multiplies by these instead of dividing (a division costs several
#: multiplications' time); the compiled backend uses the same constants, so both round alike
INV_FL_WIDTH = 1.0 / FL_WIDTH
INV_HALF_FL_WIDTH = 1.0 / (0.5 * FL_WIDTH)
#: Taylor coefficients 1/k! (k = 0..9) of ``exp_near``, highest first (Horner order)
_EXP_TAYLOR = tuple(1.0 / np.prod(np.arange(1.0, k + 1.0)) for k in range(9, -1, -1))
#: ``exp_near`` scales its argument by 2^-_EXP_SQUARINGS and squares the result back
_EXP_SQUARINGS = 3


def exp_near(d):
    """exp(d) for small |d| by arithmetic alone (no libm call): a degree-9 Taylor polynomial of
    d/8, squared three times. Relative error at most 3e-15 (rounding) for |d| <= 1, 3e-12 for
    |d| <= 2, 3e-9 at |d| = 4 and 6e-6 at |d| = 8 (tests/test_muscles.py); within a 0.25-ms step of
    the shipped walkers |d| stays below 0.05. Used where a factor exp(e) is carried from a known
    exp(e_ref) over a small change e - e_ref (``fiber_dynamics(..., fl_ref=)``); written so the
    compiled backend can evaluate it in SIMD loops, term by term the same (``compiled.fibers``)."""
    r = d * (0.5**_EXP_SQUARINGS)
    p = _EXP_TAYLOR[0]
    for c in _EXP_TAYLOR[1:]:  # Horner over the 10 coefficients (not a loop over data)
        p = p * r + c
    for _ in range(_EXP_SQUARINGS):
        p = p * p
    return p


def force_length_exponent(l_norm):
    """The exponent c |(l~ - 1)/w|^3 of the force-length factor, f_L = exp(exponent)."""
    x = (l_norm - 1.0) * INV_FL_WIDTH
    return FL_C * ((x * np.abs(x)) * x)


def force_length(l_norm):
    """Active force-length factor f_L(l~) (dimensionless), l~ = l_ce / l_opt."""
    x = (np.asarray(l_norm) - 1.0) * INV_FL_WIDTH
    return np.exp(FL_C * np.abs(x) ** 3)


def force_velocity(v_norm):
    """Force-velocity factor f_V(v~), v~ = v_ce/(v_max l_opt), negative when shortening."""
    v = np.asarray(v_norm, dtype=float)
    short = (1.0 + v) / (1.0 - FV_K * np.minimum(v, 0.0))
    lengthen = FV_N + (FV_N - 1.0) * (v - 1.0) / (FV_ECC_SHAPE * FV_K * np.maximum(v, 0.0) + 1.0)
    return np.where(v < 0.0, short, lengthen)


def velocity_from_force_ratio(f_v):
    """Inverse of ``force_velocity``: v~ from f_V >= 0, with a linear branch beyond f_V = N.

    Returns (v~, dv~/df_V). Each branch divides once: its reciprocal denominator serves v~ and
    its derivative.
    """
    f = np.asarray(f_v, dtype=float)
    f_short = np.minimum(f, 1.0)
    inv_short = 1.0 / (FV_K * f_short + 1.0)
    v_short = (f_short - 1.0) * inv_short
    dv_short = (1.0 + FV_K) * (inv_short * inv_short)
    fl = np.clip(f, 1.0, _F_SWITCH)
    den = (FV_N - 1.0) - FV_ECC_SHAPE * FV_K * (fl - FV_N)
    inv_len = 1.0 / den
    v_len = (fl - 1.0) * inv_len
    dv_len = (den + FV_ECC_SHAPE * FV_K * (fl - 1.0)) * (inv_len * inv_len)
    v_lin = 1.0 + _SLOPE_SWITCH * (f - _F_SWITCH)
    v = np.where(f <= 1.0, v_short, np.where(f <= _F_SWITCH, v_len, v_lin))
    dv = np.where(f <= 1.0, dv_short, np.where(f <= _F_SWITCH, dv_len, _SLOPE_SWITCH))
    return v, dv


def tendon_force(l_se, l_slack, f_max, ref_strain):
    """Series-elastic (tendon) force (N) and its derivative dF/dl_se (N/m)."""
    return _tendon_force(l_se, l_slack, 1.0 / l_slack, 1.0 / ref_strain, f_max,
                         tendon_stiffness(f_max, l_slack, ref_strain))


def _tendon_force(l_se, l_slack, inv_l_slack, inv_ref_strain, f_max, stiffness_per_strain):
    """``tendon_force`` from the reciprocals ``MuscleArrays`` keeps (``inv_l_slack``,
    ``inv_ref_strain``, ``tendon_stiffness``), so both backends round alike."""
    pos = np.maximum((l_se - l_slack) * inv_l_slack, 0.0)  # positive strain
    r = pos * inv_ref_strain
    return f_max * (r * r), pos * stiffness_per_strain


def tendon_stiffness(f_max, l_slack, ref_strain):
    """2 F_max / (eps_ref^2 l_slack) (N/m): dF_SE/dl_se per unit positive strain."""
    return 2.0 * f_max / ((ref_strain * ref_strain) * l_slack)


def parallel_force(l_norm, f_max, stiffness_factor):
    """Parallel elastic force (N) and d/dl~ (N per l_opt)."""
    x = np.maximum(l_norm - 1.0, 0.0) * INV_FL_WIDTH
    k = stiffness_factor * f_max
    return k * x * x, 2.0 * k * x * INV_FL_WIDTH


def buffer_force(l_norm, f_max):
    """Buffer-element force (N) against over-shortening and d/dl~ (N per l_opt, <= 0)."""
    x = np.minimum(l_norm - (1.0 - FL_WIDTH), 0.0) * INV_HALF_FL_WIDTH
    return f_max * x * x, 2.0 * f_max * x * INV_HALF_FL_WIDTH


def fiber_dynamics(l_ce, act, l_mtu, muscles, fl_ref=None):
    """Tendon force, CE velocity and d(v_ce)/d(l_ce) for all muscles.

    l_ce, act, l_mtu: (n_muscles, B) fiber length (m), activation (-), path length (m).
    muscles: ``MuscleArrays`` (batch-last parameter arrays).
    fl_ref: optional ``(f_L, exponent)`` known at nearby fibre lengths (e.g. the start of a step);
    f_L is then carried from it, ``f_L = f_L_ref exp_near(exponent - exponent_ref)``, instead of
    a libm exp (same value to about 1e-15 for the changes within a step; see ``exp_near``).
    Returns (F_se (N), v_ce (m/s), dv_dl (1/s), f_l, l_norm), each (n_muscles, B).
    """
    l_norm = l_ce * muscles.inv_l_opt
    f_se, k_se = _tendon_force(l_mtu - l_ce, muscles.l_slack, muscles.inv_l_slack, muscles.inv_ref_strain,
                               muscles.f_max, muscles.tendon_stiffness)
    f_pe, dpe = parallel_force(l_norm, muscles.f_max, muscles.pe_factor)
    f_be, dbe = buffer_force(l_norm, muscles.f_max)
    x = (l_norm - 1.0) * INV_FL_WIDTH
    x_abs = x * np.abs(x)  # x |x| (products, not a float power: several times faster)
    if fl_ref is None:
        f_l = np.exp(FL_C * (x_abs * x))  # x |x| x = |x|^3
    else:
        f_l = fl_ref[0] * exp_near(FL_C * (x_abs * x) - fl_ref[1])
    dfl = f_l * (3.0 * FL_C / FL_WIDTH) * x_abs  # d f_L / d l~
    num = f_se + f_be
    den = act * muscles.f_max * f_l + f_pe + _DEN_EPS * muscles.f_max
    inv_den = 1.0 / den
    ratio = num * inv_den
    v_norm, dv_dratio = velocity_from_force_ratio(ratio)
    # d(num)/d l_ce and d(den)/d l_ce (l_se = l_mtu - l_ce)
    dnum = -k_se + dbe * muscles.inv_l_opt
    dden = (act * muscles.f_max * dfl + dpe) * muscles.inv_l_opt
    dratio = (dnum * den - num * dden) * (inv_den * inv_den)
    scale = muscles.v_max * muscles.l_opt
    return f_se, v_norm * scale, dv_dratio * dratio * scale, f_l, l_norm


def equilibrium_fiber_length(l_mtu, act, muscles, iterations: int = 60):
    """Fiber length (m) at static equilibrium (v_ce = 0) for given path lengths and activations.

    Vectorized bisection on F_se(l_mtu - l) - (a f_L F_max + F_PE - F_BE) = 0 over
    l in (0.05 l_opt, l_mtu - l_slack]; used for initial states.
    """
    lo = np.broadcast_to(0.05 * muscles.l_opt, l_mtu.shape).copy()
    hi = np.maximum(l_mtu - muscles.l_slack, lo + 1e-9)

    def excess(l):
        ln = l / muscles.l_opt
        f_se, _ = tendon_force(l_mtu - l, muscles.l_slack, muscles.f_max, muscles.ref_strain)
        f_pe, _ = parallel_force(ln, muscles.f_max, muscles.pe_factor)
        f_be, _ = buffer_force(ln, muscles.f_max)
        return f_se + f_be - (act * muscles.f_max * force_length(ln) + f_pe + _DEN_EPS * muscles.f_max)

    for _ in range(iterations):  # iterations of one vectorized bisection, not a loop over muscles
        mid = 0.5 * (lo + hi)
        pos = excess(mid) > 0.0
        lo = np.where(pos, mid, lo)
        hi = np.where(pos, hi, mid)
    return 0.5 * (lo + hi)


def activation_decay(dt, tau):
    """exp(-dt / tau): the factor by which the distance of the activation from a constant
    excitation shrinks over a step dt (s); tau (s), e.g. ``MuscleArrays.tau_act`` (n_muscles, B)."""
    return np.exp(-dt / tau)


def activation_step(act, excitation, dt, tau, decay=None):
    """Exact update of da/dt = (u - a)/tau over dt for constant excitation u (dimensionless).
    decay: ``activation_decay(dt, tau)`` when known (a run keeps it)."""
    if decay is None:
        decay = activation_decay(dt, tau)
    return excitation + (act - excitation) * decay


def path_lengths_and_arms(q_pair, cos_q, sin_q, paths):
    """Per muscle-coordinate pair: path-length contribution (m) and moment arm (m).

    q_pair, cos_q, sin_q: (P, B) coordinate value of each pair (rad) and its cosine and sine.
    paths: ``PathArrays``. The moment arm is ``r(q) = r0 cos(q - q_max)`` (cosine pairs) or ``r0``
    (constant pairs), signed so that a positive arm gives a positive generalized force, and the
    path length is its exact integral, ``l = l_ref - int_{q_ref}^{q} r dq`` (virtual work:
    r = -dl/dq). With the angle-difference identities and the constants of ``PathArrays.build``:

        r  = arm_cos cos q + arm_sin sin q + arm_const
        dl = -(arm_cos sin q - arm_sin cos q + arm_const q) + length_const
    """
    arm = paths.arm_cos * cos_q + paths.arm_sin * sin_q + paths.arm_const
    dl = paths.length_const - (paths.arm_cos * sin_q - paths.arm_sin * cos_q + paths.arm_const * q_pair)
    return dl, arm
