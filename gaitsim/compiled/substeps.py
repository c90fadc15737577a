"""Compiled mechanics sub-steps of ``integrate.SemiImplicitEuler(mechanics_substeps > 1)``.

All sub-steps of a step run in one kernel call: the first with the step's own force evaluation,
each later one with the force kernel without muscles and the held muscle moments; then the solve,
the contact active set with its re-solve of the walkers whose set changed, and the update of the
coordinates and the contact state. The same arithmetic as the loop
``SemiImplicitEuler._substep_loop``, without a Python round trip per sub-step (about 50 us each,
most of a sub-step's cost for one walker).
"""

from __future__ import annotations

import numpy as np

from ..model import Model
from ._numba import njit, numba, require
from .physics import _NO_TRIG, actuator_rows, force_arrays, zeroed_force_arrays
from .records import force_switches, model_record, plain

if numba is not None:  # the kernels exist only where numba compiles them
    from .contact_set import _active_set_kernel
    from .physics import _accelerations_kernel, _forces_kernel
    from .records import ForceArrays, ForceSwitches, SolveInputs, StateRecord, TrigRecord, named_model

    @njit(cache=True, inline="always", error_model="numpy")
    def _solve_inputs(forces, fn, cn):
        """The ``SolveInputs`` of the force arrays ``forces`` with the normal forces ``fn`` (N) and
        damping ``cn`` (N s/m) given (2 legs, 2 spheres, B)."""
        return SolveInputs(mass_matrix=forces.mass_matrix, bias=forces.bias, muscle_moment=forces.muscle_moment,
                           limit_moment=forces.limit_moment, limit_damping=forces.limit_damping,
                           contact_jac=forces.contact_jac, fn=fn, ft=forces.ft, cn=cn, ct=forces.ct)

    @njit(cache=True, error_model="numpy")
    def _subset_solve(walkers, count, solve, torque, damping, damping_step, use_contact, qdd):
        """Solve again for the walkers ``walkers[:count]`` only (gathered into compact arrays) from
        ``solve`` (``SolveInputs``, with the active set's normal forces and damping); their
        columns of ``qdd`` are replaced."""
        mass_matrix = np.empty((10, 10, count))
        bias, muscle_moment = np.empty((10, count)), np.empty((10, count))
        limit_moment, limit_damping = np.empty((10, count)), np.empty((10, count))
        sub_torque, sub_damping, sub_qdd = np.empty((10, count)), np.empty((10, count)), np.empty((10, count))
        contact_jac = np.empty((2, 2, 2, 4, count))
        fn, ft, cn, ct = (np.empty((2, 2, count)), np.empty((2, 2, count)), np.empty((2, 2, count)),
                          np.empty((2, 2, count)))
        for i in range(count):
            b = walkers[i]
            for r in range(10):
                for c in range(10):
                    mass_matrix[r, c, i] = solve.mass_matrix[r, c, b]
                bias[r, i] = solve.bias[r, b]
                muscle_moment[r, i] = solve.muscle_moment[r, b]
                limit_moment[r, i] = solve.limit_moment[r, b]
                limit_damping[r, i] = solve.limit_damping[r, b]
                sub_torque[r, i] = torque[r, b]
                sub_damping[r, i] = damping[r, b]
            for leg in range(2):
                for sphere in range(2):
                    fn[leg, sphere, i] = solve.fn[leg, sphere, b]
                    ft[leg, sphere, i] = solve.ft[leg, sphere, b]
                    cn[leg, sphere, i] = solve.cn[leg, sphere, b]
                    ct[leg, sphere, i] = solve.ct[leg, sphere, b]
                    for xy in range(2):
                        for k in range(4):
                            contact_jac[xy, leg, sphere, k, i] = solve.contact_jac[xy, leg, sphere, k, b]
        subset = SolveInputs(mass_matrix=mass_matrix, bias=bias, muscle_moment=muscle_moment,
                             limit_moment=limit_moment, limit_damping=limit_damping, contact_jac=contact_jac,
                             fn=fn, ft=ft, cn=cn, ct=ct)
        _accelerations_kernel(subset, sub_torque, sub_damping, damping_step, use_contact, sub_qdd)
        for i in range(count):
            for r in range(10):
                qdd[r, walkers[i]] = sub_qdd[r, i]

    @njit(cache=True, error_model="numpy")
    def _mechanics_substep(forces, h, damping_step, q, qd, anchor, mode, qd0, torque, damping, continue_torque,
                           use_contact, active_set, contact, tq, fn2, cn2, changed, walkers, qdd):
        """One sub-step ``h`` (s) from the ``ForceArrays`` ``forces`` (``_forces_kernel``'s outputs
        at (q, qd)): solve (damping implicit over ``damping_step`` = damping_theta h), contact
        active set (``contact``: ``ContactRecord``) and its re-solve, then q, qd, anchor and mode in
        place."""
        nb = q.shape[1]
        for c in range(10):
            for b in range(nb):
                if continue_torque:  # actuator torques continued along their damping (integrate._continued)
                    tq[c, b] = torque[c, b] - damping[c, b] * (qd[c, b] - qd0[c, b])
                else:
                    tq[c, b] = torque[c, b]
        _accelerations_kernel(_solve_inputs(forces, forces.fn, forces.cn), tq, damping, damping_step, use_contact,
                              qdd)
        if active_set and use_contact:  # as dynamics.accelerations_contact_active_set
            _active_set_kernel(qdd, forces.contact_jac, forces.sphere_pos, forces.sphere_vel, contact.radius,
                               contact.normal_stiffness, contact.normal_damping_velocity, damping_step, fn2, cn2,
                               changed)
            count = 0
            for b in range(nb):
                if changed[b]:
                    walkers[count] = b
                    count += 1
            if count > 0:
                _subset_solve(walkers, count, _solve_inputs(forces, fn2, cn2), tq, damping, damping_step, use_contact,
                              qdd)
        for c in range(10):
            for b in range(nb):
                qd[c, b] = qd[c, b] + h * qdd[c, b]
                q[c, b] = q[c, b] + h * qd[c, b]
        for leg in range(2):
            for sphere in range(2):
                for b in range(nb):
                    anchor[leg, sphere, b] = forces.anchor[leg, sphere, b]
                    mode[leg, sphere, b] = forces.mode[leg, sphere, b]

    @njit(cache=True, error_model="numpy")
    def _substeps_kernel(n_sub, h, damping_step, q, qd, act, lce, anchor, mode, qd0, torque, damping,
                         continue_torque, model, switches, first, scratch, active_set, no_trig, qdd):
        """The sub-steps; ``model``, ``switches`` (without muscles), ``first`` (the step's own
        force arrays) and ``scratch`` (force arrays for the later sub-steps) come as plain tuples
        (``records.plain``)."""
        model, switches = named_model(model), ForceSwitches(*switches)
        first, scratch = ForceArrays(*first), ForceArrays(*scratch)
        nb = q.shape[1]
        tq = np.empty((10, nb))
        fn2, cn2 = np.empty((2, 2, nb)), np.empty((2, 2, nb))
        changed = np.empty(nb, dtype=np.bool_)
        walkers = np.empty(nb, dtype=np.intp)
        held = first.muscle_moment  # the muscles' generalized forces at the step's start
        state = StateRecord(q=q, qdot=qd, activation=act, fiber_length=lce, anchor=anchor, mode=mode)
        unknown_trig = TrigRecord(False, no_trig, no_trig)
        # the first sub-step takes the step's own force evaluation
        _mechanics_substep(first, h, damping_step, q, qd, anchor, mode, qd0, torque, damping, continue_torque,
                           switches.contact, active_set, model.contact, tq, fn2, cn2, changed, walkers, qdd)
        for _ in range(1, n_sub):
            _forces_kernel(state, model, switches, unknown_trig, scratch, False)
            for c in range(10):
                for b in range(nb):
                    scratch.muscle_moment[c, b] = held[c, b]  # the muscles' moments are held over the step
            _mechanics_substep(scratch, h, damping_step, q, qd, anchor, mode, qd0, torque, damping, continue_torque,
                               switches.contact, active_set, model.contact, tq, fn2, cn2, changed, walkers, qdd)


def mechanics_substeps(model: Model, forces, out, act, lce, h: float, n_sub: int, active_set: bool,
                       damping_step: float | None = None, workspace=None):
    """The ``n_sub`` sub-steps of ``SemiImplicitEuler._substep_loop`` (sub-step ``h``, s) in one
    kernel call, from the step's forces ``forces`` and controller output ``out``; activation ``act`` and
    fibre lengths ``lce`` (n_muscles, B) of the step's start. Returns ``((q, qdot, anchor, mode) at
    the step's end, qddot of the last sub-step)``. ``damping_step`` (s): the horizon of the implicit
    damping, ``damping_theta * h`` (default ``h``: backward Euler). ``workspace``: the run's
    ``update.StepWorkspace`` (its model records, sub-step force arrays and zero actuator rows are
    taken instead of new ones)."""
    require()
    nb = forces.q.shape[1]
    q, qd = np.array(forces.q, order="C"), np.array(forces.qdot, order="C")
    anchor, mode = np.array(forces.anchor, order="C"), np.array(forces.mode, order="C")
    if workspace is None:
        torque, damping = actuator_rows(out.torque, nb), actuator_rows(out.damping, nb)
        records, scratch = model_record(model), zeroed_force_arrays(model, nb)
    else:
        torque, damping = workspace.actuator_rows(out.torque), workspace.actuator_rows(out.damping)
        records, scratch = workspace.model, workspace.substep_forces
    continue_torque = out.torque is not None and out.damping is not None
    qdd = np.empty((10, nb))
    damping_step = h if damping_step is None else damping_step
    _substeps_kernel(int(n_sub), float(h), float(damping_step), q, qd, act, lce, anchor, mode,
                     np.ascontiguousarray(forces.qdot), torque, damping, continue_torque, plain(records),
                     plain(force_switches(model, muscles=False)), force_arrays(forces), plain(scratch),
                     bool(active_set), _NO_TRIG[0], qdd)
    return (q, qd, anchor, mode), qdd


__all__ = ["mechanics_substeps"]
