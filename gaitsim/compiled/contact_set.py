"""Compiled ``dynamics.normal_contact_active_set`` (the normal contact's active set over a step)."""

from __future__ import annotations

import numpy as np

from ..model import Model
from ._numba import njit, numba, require
from .physics import kernel_forces

if numba is not None:

    @njit(cache=True, error_model="numpy")
    def _active_set_kernel(qdd, jac, pos, vel, radius, k_n, v_n, damping_step, fn, cn, changed):
        """The active set (``dynamics.normal_contact_active_set``): fn, cn (2 legs, 2 spheres, B) and
        changed (B,) written. jac, pos, vel: the spheres' Jacobians, positions and velocities
        (``ForceState.contact_jac``, ``sphere_pos``, ``sphere_vel``); radius, k_n, v_n: the contact's
        sphere radius, normal stiffness and damping velocity (``ContactRecord``)."""
        nb = qdd.shape[1]
        for b in range(nb):
            changed[b] = False
        for leg in range(2):
            o = 4 + 3 * leg  # hip, knee, ankle of this leg in q
            for s in range(2):
                for b in range(nb):
                    # absolute accelerations of the leg's links (skeleton.abs_from_rel)
                    femur = qdd[o, b] + qdd[2, b]
                    tibia = (qdd[o, b] + qdd[o + 1, b]) + qdd[2, b]
                    foot = ((qdd[o, b] + qdd[o + 1, b]) + qdd[o + 2, b]) + qdd[2, b]
                    a_y = qdd[1, b] + (jac[1, leg, s, 0, b] * qdd[2, b] + jac[1, leg, s, 1, b] * femur
                                       + jac[1, leg, s, 2, b] * tibia + jac[1, leg, s, 3, b] * foot)
                    pen = radius[leg, s, b] - pos[1, leg, s, b]
                    inside = pen > 0.0
                    f_lin = k_n[b] * pen * (1.0 - vel[1, leg, s, b] / v_n[b]) if inside else 0.0
                    c = k_n[b] * pen / v_n[b] if inside else 0.0
                    active = inside and (f_lin - c * damping_step * a_y > 0.0)
                    explicit = inside and f_lin > 0.0
                    fn[leg, s, b] = f_lin if active else 0.0
                    cn[leg, s, b] = c if active else 0.0
                    if active != explicit:
                        changed[b] = True


def normal_contact_active_set(model: Model, forces, qdd, damping_step: float):
    """Compiled ``dynamics.normal_contact_active_set``: ``(fn, cn, changed)``, with fn and cn in the
    kernels' (possibly padded) row layout."""
    require()
    arrays = kernel_forces(forces)
    nb = qdd.shape[1]
    fn, cn = np.zeros_like(arrays.fn), np.zeros_like(arrays.cn)
    changed = np.empty(nb, dtype=np.bool_)
    contact = model.contact
    _active_set_kernel(qdd, arrays.contact_jac, arrays.sphere_pos, arrays.sphere_vel, contact.radius,
                       contact.normal_stiffness, contact.normal_damping_velocity, float(damping_step), fn, cn, changed)
    return fn, cn, changed
