"""Compiled state update of ``integrate.SemiImplicitEuler.step`` (steps 3-6 of its docstring)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..muscles import MIN_EXCITATION
from ..model import Model
from ..state import MAX_SPEED
from ._numba import njit, numba
from .physics import kernel_forces, zeroed_force_arrays
from .records import ForceArrays, ModelRecord, model_record

if numba is not None:

    @njit(cache=True, error_model="numpy")
    def _update_kernel(x, qdd, exc, v_ce, dv_dl, anchor, mode, decay, dt, min_exc, i_q, i_qd, i_act, i_lce,
                       i_anchor, i_mode, new):
        nb = x.shape[1]
        n_mus = exc.shape[0]
        for i in range(10):  # batch innermost: the loops vectorize across walkers
            for b in range(nb):
                qd_new = x[i_qd + i, b] + dt * qdd[i, b]
                new[i_qd + i, b] = qd_new
                new[i_q + i, b] = x[i_q + i, b] + dt * qd_new
        for m in range(n_mus):
            for b in range(nb):
                u = min(max(exc[m, b], min_exc), 1.0)
                new[i_act + m, b] = u + (x[i_act + m, b] - u) * decay[m, b]
                stiff = min(dv_dl[m, b], 0.0)
                new[i_lce + m, b] = x[i_lce + m, b] + dt * v_ce[m, b] / (1.0 - dt * stiff)
        for k in range(4):
            for b in range(nb):
                new[i_anchor + k, b] = anchor[k // 2, k % 2, b]
                new[i_mode + k, b] = mode[k // 2, k % 2, b]

    @njit(cache=True, error_model="numpy")
    def _health_kernel(new, i_qd, fall_height, max_speed, finite, bad):
        n_rows, nb = new.shape
        total = np.empty(nb)
        speed_ok = np.ones(nb, dtype=np.bool_)
        for b in range(nb):
            total[b] = new[0, b]
        for r in range(1, n_rows):  # row after row, as numpy's sum(axis=0)
            for b in range(nb):
                total[b] += new[r, b]
        for i in range(10):
            for b in range(nb):
                v = new[i_qd + i, b]
                speed_ok[b] = speed_ok[b] and (v < max_speed) and (v > -max_speed)
        for b in range(nb):
            ok = (total[b] - total[b] == 0.0) and speed_ok[b]  # x - x is 0 iff x is finite
            finite[b] = ok
            bad[b] = (not ok) or (new[1, b] < fall_height)


def walker_health(new, qdot_rows: slice, fall_height: float):
    """Compiled ``integrate.walker_health`` (same arguments and result): one pass instead of
    numpy's four reductions."""

    nb = new.shape[1]
    finite, bad = np.empty(nb, dtype=np.bool_), np.empty(nb, dtype=np.bool_)
    _health_kernel(new, qdot_rows.start, float(fall_height), MAX_SPEED, finite, bad)
    return finite, bad


class StepWorkspace(NamedTuple):
    """The arrays the compiled step reuses over one run, made once by ``SemiImplicitEuler.init``
    (``step_workspace``) and kept in its ``StepState``, instead of allocating them at every step.

    forces: two sets of force output arrays (``physics.new_force_arrays``, zeroed once: the
    mass matrix's structural zeros are then never written again), used by the steps in turn, so
    a step's forces stay valid until the step after next overwrites them.
    states: two arrays for the new physical state (n_phys, B); a step writes the one that is not
    its own state. Together with ``forces``: 25 allocations fewer per step (some 13 MB at 4096
    walkers) and memory that stays warm in the caches, 6-10 % per walker-step at 1024 walkers
    and 7 % at 4096 (measured against fresh arrays, both versions run in turn in one process).
    substep_forces: the mechanics sub-steps' force arrays (zeroed once; the sub-step kernel
    overwrites them at every sub-step and nothing outside it reads them).
    no_actuator: (10, B) zeros, the actuator torque and damping of a controller without actuators
    (the kernels only read it; left writeable, since a read-only array would make numba compile
    every kernel that takes it a second time).
    model: the model's ``records.ModelRecord``, assembled once.
    """

    forces: tuple[ForceArrays, ForceArrays]
    states: tuple[np.ndarray, np.ndarray]
    substep_forces: ForceArrays
    no_actuator: np.ndarray
    model: ModelRecord

    def new_state_array(self, x: np.ndarray) -> np.ndarray:
        """An array for the new physical state of a step from ``x``: one of ``states`` that is not ``x``."""
        return self.states[1] if self.states[0] is x else self.states[0]

    def actuator_rows(self, values) -> np.ndarray | None:
        """``values`` (an actuator torque or damping, (10, B) or None) with None as ``no_actuator``."""
        return self.no_actuator if values is None else values


def step_workspace(model: Model, x: np.ndarray) -> StepWorkspace:
    """The ``StepWorkspace`` of a run of ``model`` from the physical state ``x`` (n_phys, B)."""
    nb = x.shape[1]
    return StepWorkspace(forces=(zeroed_force_arrays(model, nb), zeroed_force_arrays(model, nb)),
                         states=(np.empty_like(x), np.empty_like(x)),
                         substep_forces=zeroed_force_arrays(model, nb), no_actuator=np.zeros((10, nb)),
                         model=model_record(model))


def update_state(model: Model, x, forces, excitation, qdd, dt: float, blocks: dict, decay, out=None) -> np.ndarray:
    """Compiled state update of ``integrate.SemiImplicitEuler.step`` (returns the new physical state).

    decay: ``exp(-dt / tau_act)`` (n_muscles, B), the activation's factor over the step
    (``muscles.activation_decay``, kept in the step state).
    out: optional C-contiguous array shaped like ``x`` (not ``x`` itself) to write the new state into."""
    new = np.empty_like(x) if out is None else out
    exc = excitation
    if not (isinstance(exc, np.ndarray) and exc.shape == forces.force.shape and exc.dtype == np.float64
            and exc.flags.c_contiguous):
        exc = np.ascontiguousarray(np.broadcast_to(np.asarray(excitation, dtype=float), forces.force.shape))
    arrays = kernel_forces(forces)
    _update_kernel(x, qdd, exc, arrays.fiber_velocity, arrays.dv_dl, arrays.anchor, arrays.mode,
                   decay, float(dt), MIN_EXCITATION, blocks["q"].start, blocks["qdot"].start,
                   blocks["activation"].start, blocks["fiber_length"].start, blocks["anchor"].start,
                   blocks["mode"].start, new)
    return new
