"""Compiled mechanics sub-steps of ``integrate.SemiImplicitEuler(mechanics_substeps > 1)``.

All sub-steps of a step run in one kernel call: the first with the step's own force evaluation,
each later one with the force kernel without muscles and the held muscle moments; then the solve,
the contact active set with its re-solve of the walkers whose set changed, and the update of the
coordinates and the contact state. The same arithmetic as the numpy loop in
``SemiImplicitEuler._substeps``, without a Python round trip per sub-step (about 50 us each, most
of a sub-step's cost for one walker).
"""

from __future__ import annotations

import numpy as np

from ..model import Model
from ._numba import njit, numba, require
from .physics import (_NO_TRIG, _PARENT_OF, FORCE_FIELDS, actuator_rows, force_arrays, model_arrays, model_flags,
                      zeroed_force_arrays)

if numba is not None:  # the kernels exist only where numba compiles them
    from .contact_set import _active_set_kernel
    from .physics import _accelerations_kernel, _forces_kernel

_MOMENT = FORCE_FIELDS.index("muscle_moment")  # position of the muscles' generalized forces in a force tuple

if numba is not None:

    @njit(cache=True, error_model="numpy")
    def _subset_solve(idx, cnt, M, bias, mmom, lim_m, lim_d, torque, damping, jac, fn, ft, cn, ct, h, use_contact,
                      parent_of, qdd):
        """Solve again for the walkers ``idx[:cnt]`` only (gathered into compact arrays), with the
        active set's normal forces ``fn`` and damping ``cn``; their rows of ``qdd`` are replaced."""
        s_M = np.empty((10, 10, cnt))
        s_bias, s_mmom, s_lm, s_ld = np.empty((10, cnt)), np.empty((10, cnt)), np.empty((10, cnt)), np.empty((10, cnt))
        s_t, s_d, s_qdd = np.empty((10, cnt)), np.empty((10, cnt)), np.empty((10, cnt))
        s_jac = np.empty((2, 2, 2, 4, cnt))
        s_fn, s_ft, s_cn, s_ct = (np.empty((2, 2, cnt)), np.empty((2, 2, cnt)), np.empty((2, 2, cnt)),
                                  np.empty((2, 2, cnt)))
        for i in range(cnt):
            b = idx[i]
            for r in range(10):
                for c in range(10):
                    s_M[r, c, i] = M[r, c, b]
                s_bias[r, i] = bias[r, b]
                s_mmom[r, i] = mmom[r, b]
                s_lm[r, i] = lim_m[r, b]
                s_ld[r, i] = lim_d[r, b]
                s_t[r, i] = torque[r, b]
                s_d[r, i] = damping[r, b]
            for leg in range(2):
                for sp in range(2):
                    s_fn[leg, sp, i] = fn[leg, sp, b]
                    s_ft[leg, sp, i] = ft[leg, sp, b]
                    s_cn[leg, sp, i] = cn[leg, sp, b]
                    s_ct[leg, sp, i] = ct[leg, sp, b]
                    for xy in range(2):
                        for k in range(4):
                            s_jac[xy, leg, sp, k, i] = jac[xy, leg, sp, k, b]
        _accelerations_kernel(s_M, s_bias, s_mmom, s_lm, s_ld, s_t, s_d, s_jac, s_fn, s_ft, s_cn, s_ct, h,
                              use_contact, parent_of, s_qdd)
        for i in range(cnt):
            for r in range(10):
                qdd[r, idx[i]] = s_qdd[r, i]

    @njit(cache=True, error_model="numpy")
    def _mechanics_substep(forces, h, hd, q, qd, anchor, mode, qd0, torque, damping, continue_torque, use_contact,
                           active_set, radius, k_n, v_n, parent_of, tq, fn2, cn2, changed, idx, qdd):
        """One sub-step ``h`` (s) from the force arrays ``forces`` (``_forces_kernel``'s outputs at
        (q, qd)): solve (damping implicit over ``hd`` = damping_theta h), contact active set and its
        re-solve, then q, qd, anchor and mode in place."""
        nb = q.shape[1]
        (psi, psidot, M, bias, l_mtu, arms, f_se, v_ce, dv_dl, f_l, l_norm, mmom, pos, vel, jac,
         fn, ft, cn, ct, anc, md, lim_m, lim_d) = forces
        for c in range(10):
            for b in range(nb):
                if continue_torque:  # actuator torques continued along their damping (integrate._continued)
                    tq[c, b] = torque[c, b] - damping[c, b] * (qd[c, b] - qd0[c, b])
                else:
                    tq[c, b] = torque[c, b]
        _accelerations_kernel(M, bias, mmom, lim_m, lim_d, tq, damping, jac, fn, ft, cn, ct, hd, use_contact,
                              parent_of, qdd)
        if active_set and use_contact:  # as dynamics.accelerations_contact_active_set
            _active_set_kernel(qdd, jac, pos, vel, radius, k_n, v_n, hd, fn2, cn2, changed)
            cnt = 0
            for b in range(nb):
                if changed[b]:
                    idx[cnt] = b
                    cnt += 1
            if cnt > 0:
                _subset_solve(idx, cnt, M, bias, mmom, lim_m, lim_d, tq, damping, jac, fn2, ft, cn2, ct, hd,
                              use_contact, parent_of, qdd)
        for c in range(10):
            for b in range(nb):
                qd[c, b] = qd[c, b] + h * qdd[c, b]
                q[c, b] = q[c, b] + h * qd[c, b]
        for leg in range(2):
            for sp in range(2):
                for b in range(nb):
                    anchor[leg, sp, b] = anc[leg, sp, b]
                    mode[leg, sp, b] = md[leg, sp, b]

    @njit(cache=True, error_model="numpy")
    def _substeps_kernel(n_sub, h, hd, q, qd, act, lce, anchor, mode, qd0, torque, damping, continue_torque, arrays,
                         flags, first, outs, active_set, radius, k_n, v_n, parent_of, no_trig, qdd):
        nb = q.shape[1]
        use_contact = flags[1]
        tq = np.empty((10, nb))
        fn2, cn2 = np.empty((2, 2, nb)), np.empty((2, 2, nb))
        changed = np.empty(nb, dtype=np.bool_)
        idx = np.empty(nb, dtype=np.intp)
        held = first[_MOMENT]  # the muscles' generalized forces at the step's start
        mmom = outs[_MOMENT]
        # the first sub-step takes the step's own force evaluation
        _mechanics_substep(first, h, hd, q, qd, anchor, mode, qd0, torque, damping, continue_torque, use_contact,
                           active_set, radius, k_n, v_n, parent_of, tq, fn2, cn2, changed, idx, qdd)
        for _ in range(1, n_sub):
            _forces_kernel(q, qd, act, lce, anchor, mode, *arrays, *flags, *outs, False, no_trig, no_trig, False)
            for c in range(10):
                for b in range(nb):
                    mmom[c, b] = held[c, b]  # the muscles' moments are held over the step
            _mechanics_substep(outs, h, hd, q, qd, anchor, mode, qd0, torque, damping, continue_torque, use_contact,
                               active_set, radius, k_n, v_n, parent_of, tq, fn2, cn2, changed, idx, qdd)


def mechanics_substeps(model: Model, fs, out, act, lce, h: float, n_sub: int, active_set: bool,
                       damping_step: float | None = None, workspace=None):
    """The ``n_sub`` sub-steps of ``SemiImplicitEuler._substep_loop`` (sub-step ``h``, s) in one
    kernel call, from the step's forces ``fs`` and controller output ``out``; activation ``act`` and
    fibre lengths ``lce`` (n_muscles, B) of the step's start. Returns ``((q, qdot, anchor, mode) at
    the step's end, qddot of the last sub-step)``. ``damping_step`` (s): the horizon of the implicit
    damping, ``damping_theta * h`` (default ``h``: backward Euler). ``workspace``: the run's
    ``update.StepWorkspace`` (its sub-step force arrays and zero actuator rows are taken instead
    of new ones)."""
    require()
    nb = fs.q.shape[1]
    q, qd = np.array(fs.q, order="C"), np.array(fs.qdot, order="C")
    anchor, mode = np.array(fs.anchor, order="C"), np.array(fs.mode, order="C")
    if workspace is None:
        torque, damping = actuator_rows(out.torque, nb), actuator_rows(out.damping, nb)
        scratch = zeroed_force_arrays(model, nb)
    else:
        torque, damping = workspace.actuator_rows(out.torque), workspace.actuator_rows(out.damping)
        scratch = workspace.substep_forces
    continue_torque = out.torque is not None and out.damping is not None
    first = force_arrays(fs)  # the step's own force evaluation, for the first sub-step
    cp = model.contact
    qdd = np.empty((10, nb))
    damping_step = h if damping_step is None else damping_step
    _substeps_kernel(int(n_sub), float(h), float(damping_step), q, qd, act, lce, anchor, mode,
                     np.ascontiguousarray(fs.qdot), torque, damping, continue_torque, model_arrays(model),
                     model_flags(model, muscles=False), first, scratch, bool(active_set),
                     cp.radius, cp.normal_stiffness, cp.normal_damping_velocity, _PARENT_OF, _NO_TRIG[0], qdd)
    return (q, qd, anchor, mode), qdd


__all__ = ["mechanics_substeps"]
