"""Foot-ground contact: heel and ball spheres per foot, compliant normal force, stick-slip friction.

Normal force, the law of Geyer & Herr 2010 (H. Geyer's ``nms_model_MechInit.m``):
``F_n = k_n d max(0, 1 + d_dot / v_n)`` for penetration ``d = radius - y_centre > 0``, with
``k_n = BW / 1 cm`` per contact sphere. The force is nonlinear in the state (a spring whose damping
grows with the penetration, a Hunt-Crossley law linear in ``d``) and never pulls.

The damping velocity is ``v_n = 1/3 m/s``, the dissipation of OpenSim's ``2D_gait.osim``
(``SmoothSphereHalfSpaceForce``, Hunt-Crossley ``F = k d^1.5 (1 + 1.5 c d_dot)`` with ``c = 2 s/m``,
i.e. ``1 / v_n = 1.5 c``). Geyer & Herr's ``v_n = 0.03 m/s`` (10x the damping) makes the heel pad
nearly plastic: a heel landing at 0.4 m/s stops within millimetres, and the shipped walkers tuned
with it showed per-foot heel-strike peaks of 1.9 BW (median) up to 2.6 BW where measured walking shows
1.0-1.3 BW.

Friction, two models:

* ``"stick_slip"`` (default, Geyer & Herr 2010 [GH-M]): while sticking, a spring-damper anchored
  where stiction began, ``F_t = -k_t dx max(0, 1 + sgn(dx) x_dot / v_t)``, ``k_t = BW / 10 cm``,
  ``v_t = 0.03 m/s``; it slips when ``|F_t| > mu_stick F_n`` (0.9) and then
  ``F_t = -sgn(x_dot) mu_slide F_n`` (0.8); it sticks again when the sliding velocity falls
  below 0.01 m/s or changes sign (the sign test avoids slip chatter).
  Anchor and stick/slip mode are discrete states updated once per step, from the
  state at the start of the step.
* ``"regularized"``: ``F_t = -mu_slide F_n x_dot / sqrt(x_dot^2 + v_reg^2)``, smooth, without
  discrete state (used for oracle tests against scipy's Radau).

Forces act at the sphere centres (the moment of friction about the centre, at most
radius x F_t, is neglected). Sphere centres and radii come from ``2D_gait.osim``
(``anthropometry``). All arrays are batch-last with shape ``(2 legs, 2 spheres, B)``.
"""

from __future__ import annotations

import numpy as np

from .names import CONTACT_SPHERES
from .params import ParamSpec

MODE_AIR, MODE_STICK, MODE_SLIP_FWD, MODE_SLIP_BWD = 0.0, 1.0, 2.0, 3.0
FRICTION_MODELS = ("stick_slip", "regularized")

CONTACT_SPECS = {
    "contact.sphere_x": ParamSpec(CONTACT_SPHERES, "m", -1.0, 1.0, "sphere centre x in the foot frame; 2D_gait.osim"),
    "contact.sphere_y": ParamSpec(CONTACT_SPHERES, "m", -1.0, 1.0, "sphere centre y in the foot frame; 2D_gait.osim"),
    "contact.sphere_radius": ParamSpec(CONTACT_SPHERES, "m", 0.0, 0.5, "sphere radius; 2D_gait.osim"),
    "contact.normal_stiffness": ParamSpec(None, "N/m", 0.0, 1e8, "k_n per sphere, BW/0.01 m [GH-M]",
                                          strict_low=True),
    "contact.normal_damping_velocity": ParamSpec(None, "m/s", 0.0, 100.0,
                                                 "v_n = 1/3 m/s, 2D_gait.osim's c = 2 s/m (GH-M: 0.03)",
                                                 strict_low=True),
    "contact.tangential_stiffness": ParamSpec(None, "N/m", 0.0, 1e8, "k_t, BW/0.1 m [GH-M]", strict_low=True),
    "contact.tangential_damping_velocity": ParamSpec(None, "m/s", 0.0, 100.0, "v_t = 0.03 m/s [GH-M]",
                                                     strict_low=True),
    "contact.stick_friction": ParamSpec(None, "-", 0.0, 10.0, "mu_stick = 0.9 [GH-M]"),
    "contact.slide_friction": ParamSpec(None, "-", 0.0, 10.0, "mu_slide = 0.8 [GH-M]"),
    "contact.stick_velocity": ParamSpec(None, "m/s", 0.0, 10.0, "slip->stick below 0.01 m/s [GH-M]", strict_low=True),
    "contact.regularization_velocity": ParamSpec(None, "m/s", 0.0, 10.0,
                                                 "v_reg of the regularized friction (0.01 m/s, gaitsim choice)",
                                                 strict_low=True),
}


def contact_defaults(body_weight: np.ndarray) -> dict[str, np.ndarray]:
    """Per-walker contact law parameters (batch-first) for body weight (N)."""
    bw = np.asarray(body_weight, float)
    one = np.ones_like(bw)
    return {
        "contact.normal_stiffness": bw / 0.01,
        "contact.normal_damping_velocity": one / 3.0,  # 2D_gait.osim: 1 / (1.5 x 2 s/m)
        "contact.tangential_stiffness": bw / 0.1,
        "contact.tangential_damping_velocity": 0.03 * one,
        "contact.stick_friction": 0.9 * one,
        "contact.slide_friction": 0.8 * one,
        "contact.stick_velocity": 0.01 * one,
        "contact.regularization_velocity": 0.01 * one,
    }


def normal_force(y, vy, radius, contact):
    """Normal force F_n (N) and its damping coefficient c_n = -dF_n/dvy (N s/m), each (2, 2, B)."""
    pen = radius - y
    factor = 1.0 - vy / contact.normal_damping_velocity
    active = (pen > 0.0) & (factor > 0.0)
    fn = np.where(active, contact.normal_stiffness * pen * factor, 0.0)
    cn = np.where(active, contact.normal_stiffness * pen / contact.normal_damping_velocity, 0.0)
    return fn, cn


def friction_force(x, vx, fn, anchor, mode, contact, friction_model: str):
    """Tangential force and the friction state for this step, all (2, 2, B).

    Returns ``(F_t (N), c_t = -dF_t/dvx (N s/m), anchor (m), mode)``. With ``stick_slip`` the
    mode is first advanced from the current state (touchdown -> stick at the touchdown point;
    slip -> stick when the sliding velocity is below ``stick_velocity`` or has changed
    direction; airborne spheres re-anchor under themselves), then a sticking sphere whose
    spring force exceeds ``stick_friction F_n`` starts to slip. Modes: 0 air, 1 stick,
    2 slip forward, 3 slip backward.
    """
    if friction_model == "regularized":
        v_reg = contact.regularization_velocity
        root = np.sqrt(vx * vx + v_reg * v_reg)
        ft = -contact.slide_friction * fn * vx / root
        ct = contact.slide_friction * fn * v_reg * v_reg / root**3
        return ft, ct, x, np.where(fn > 0.0, MODE_STICK, MODE_AIR)
    loaded = fn > 0.0
    slip_dir = np.where(mode == MODE_SLIP_FWD, 1.0, np.where(mode == MODE_SLIP_BWD, -1.0, 0.0))
    sliding = loaded & (slip_dir != 0.0)
    resumes = sliding & ((np.abs(vx) < contact.stick_velocity) | (np.sign(vx) != slip_dir))
    sliding &= ~resumes
    re_anchor = ~loaded | resumes | (mode == MODE_AIR)
    anchor = np.where(re_anchor, x, anchor)
    dx = x - anchor
    factor = np.maximum(1.0 + np.sign(dx) * vx / contact.tangential_damping_velocity, 0.0)
    f_stick = -contact.tangential_stiffness * dx * factor
    c_stick = np.where(factor > 0.0,
                       contact.tangential_stiffness * np.abs(dx) / contact.tangential_damping_velocity, 0.0)
    starts = loaded & ~sliding & (np.abs(f_stick) > contact.stick_friction * fn)
    slipping = sliding | starts
    direction = np.where(starts, np.where(vx >= 0.0, 1.0, -1.0), slip_dir)
    f_slide = -direction * contact.slide_friction * fn
    sticking = loaded & ~slipping
    ft = np.where(sticking, f_stick, np.where(slipping, f_slide, 0.0))
    ct = np.where(sticking, c_stick, 0.0)
    new_mode = np.where(~loaded, MODE_AIR,
                        np.where(slipping, np.where(direction > 0.0, MODE_SLIP_FWD, MODE_SLIP_BWD), MODE_STICK))
    return ft, ct, anchor, new_mode
