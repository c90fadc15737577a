"""Compiled state update of ``integrate.SemiImplicitEuler.step`` (steps 3-6 of its docstring)."""

from __future__ import annotations

import numpy as np

from ..model import Model
from ._numba import njit, numba

if numba is not None:

    @njit(cache=True)
    def _update_kernel(x, qdd, exc, v_ce, dv_dl, anchor, mode, tau_act, dt, min_exc, i_q, i_qd, i_act, i_lce,
                       i_anchor, i_mode, new):
        nb = x.shape[1]
        n_mus = exc.shape[0]
        for b in range(nb):
            for i in range(10):
                qd_new = x[i_qd + i, b] + dt * qdd[i, b]
                new[i_qd + i, b] = qd_new
                new[i_q + i, b] = x[i_q + i, b] + dt * qd_new
            for m in range(n_mus):
                u = min(max(exc[m, b], min_exc), 1.0)
                decay = np.exp(-dt / tau_act[m, b])
                new[i_act + m, b] = u + (x[i_act + m, b] - u) * decay
                stiff = min(dv_dl[m, b], 0.0)
                new[i_lce + m, b] = x[i_lce + m, b] + dt * v_ce[m, b] / (1.0 - dt * stiff)
            for k in range(4):
                new[i_anchor + k, b] = anchor[k // 2, k % 2, b]
                new[i_mode + k, b] = mode[k // 2, k % 2, b]


def update_state(model: Model, x, fs, excitation, qdd, dt: float, blocks: dict) -> np.ndarray:
    """Compiled state update of ``integrate.SemiImplicitEuler.step`` (returns the new physical state)."""
    from ..control import MIN_EXCITATION

    new = np.empty_like(x)
    exc = np.ascontiguousarray(np.broadcast_to(np.asarray(excitation, dtype=float), fs.force.shape))
    _update_kernel(x, qdd, exc, fs.fiber_velocity, fs.dv_dl, fs.anchor, fs.mode,
                   model.muscles.tau_act, float(dt), MIN_EXCITATION, blocks["q"].start, blocks["qdot"].start,
                   blocks["activation"].start, blocks["fiber_length"].start, blocks["anchor"].start,
                   blocks["mode"].start, new)
    return new
