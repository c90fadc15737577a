"""Compiled backward-Euler fibre update (``integrate.backward_euler_fibers``), for
``SemiImplicitEuler(fiber_iterations > 0, backend="numba")``."""

from __future__ import annotations

import numpy as np

from .. import muscles as mus
from ..model import Model
from ._numba import njit, numba, require
from .physics import _FL_C, _INV_W, kernel_forces
from .records import MuscleRecord, PathRecord, model_record, plain

_T = mus._EXP_TAYLOR  # Taylor coefficients of muscles.exp_near, highest first
_EXP_SCALE = 0.5**mus._EXP_SQUARINGS

if numba is not None:
    from .physics import _ce_state, _sin_cos

    @njit(cache=True, inline="always", error_model="numpy")
    def _exp_near(d):
        """``muscles.exp_near`` term by term (Horner, then three squarings)."""
        r = d * _EXP_SCALE
        p = _T[0]
        p = p * r + _T[1]
        p = p * r + _T[2]
        p = p * r + _T[3]
        p = p * r + _T[4]
        p = p * r + _T[5]
        p = p * r + _T[6]
        p = p * r + _T[7]
        p = p * r + _T[8]
        p = p * r + _T[9]
        p = p * p
        p = p * p
        return p * p

    @njit(cache=True, error_model="numpy")
    def _fiber_newton_kernel(x, new, fl_old, i_q, i_act, i_lce, dt, iterations, paths, muscles, cq, sq):
        """The Newton iterations on the fibre rows of ``new`` (in place), from ``x``; ``paths`` and
        ``muscles``: ``PathRecord`` and ``MuscleRecord`` as plain tuples (``records.plain``).
        cq, sq: out, cos and sin of the new coordinates (the next force evaluation takes them).
        Batch innermost in every loop (SIMD across walkers); the Newton iterations are the outer
        loop, so each inner loop stays vectorizable."""
        paths, muscles = PathRecord(*paths), MuscleRecord(*muscles)
        pair_coord, arm_cos, arm_sin, arm_const = paths.pair_coord, paths.arm_cos, paths.arm_sin, paths.arm_const
        length_const, l_ref, muscle_pairs = paths.length_const, paths.l_ref, paths.muscle_pairs
        f_max, l_opt, l_slack, v_max = muscles.f_max, muscles.l_opt, muscles.l_slack, muscles.v_max
        pe_factor, inv_l_opt, inv_l_slack = muscles.pe_factor, muscles.inv_l_opt, muscles.inv_l_slack
        inv_ref_strain, tendon_k = muscles.inv_ref_strain, muscles.tendon_stiffness
        nb = x.shape[1]
        n_mp = pair_coord.shape[0]
        n_mus = l_ref.shape[0]
        for c in range(10):
            for b in range(nb):
                sq[c, b], cq[c, b] = _sin_cos(new[i_q + c, b])
        dl = np.empty((n_mp + 1, nb))  # last row: the zero that pads muscle_pairs
        for b in range(nb):
            dl[n_mp, b] = 0.0
        for p in range(n_mp):
            c = pair_coord[p]
            for b in range(nb):
                dl[p, b] = length_const[p, b] - (arm_cos[p, b] * sq[c, b] - arm_sin[p, b] * cq[c, b]
                                                  + arm_const[p, b] * new[i_q + c, b])
        lm = np.empty((n_mus, nb))
        for m in range(n_mus):
            idx = muscle_pairs[m]
            for b in range(nb):  # model.gather_sum order: left to right, then l_ref
                lm[m, b] = dl[idx[0], b]
            for k in range(1, idx.shape[0]):
                for b in range(nb):
                    lm[m, b] += dl[idx[k], b]
            for b in range(nb):
                lm[m, b] = l_ref[m, b] + lm[m, b]
        lce = np.empty(nb)
        act = np.empty(nb)
        l0 = np.empty(nb)
        e0 = np.empty(nb)
        for m in range(n_mus):
            lo, ilo, fm, ls, ils, iref, tk, pe, vm, lmm, fl0 = (
                l_opt[m], inv_l_opt[m], f_max[m], l_slack[m], inv_l_slack[m], inv_ref_strain[m], tendon_k[m],
                pe_factor[m], v_max[m], lm[m], fl_old[m])
            for b in range(nb):  # local rows: the loops below then touch no array they write elsewhere
                lce[b] = new[i_lce + m, b]
                act[b] = new[i_act + m, b]
                l0[b] = x[i_lce + m, b]
                xx = (l0[b] * ilo[b] - 1.0) * _INV_W
                e0[b] = _FL_C * ((xx * abs(xx)) * xx)
            for _ in range(iterations):
                for b in range(nb):  # f_L carried from the step's start: no libm call, so SIMD
                    xx = (lce[b] * ilo[b] - 1.0) * _INV_W
                    fl = fl0[b] * _exp_near(_FL_C * ((xx * abs(xx)) * xx) - e0[b])
                    _, v, dv = _ce_state(lce[b], act[b], lmm[b], lo[b], ilo[b], fm[b], ls[b], ils[b], iref[b], tk[b],
                                         pe[b], vm[b], fl)
                    lce[b] = lce[b] - (lce[b] - l0[b] - dt * v) / (1.0 - dt * min(dv, 0.0))
            for b in range(nb):
                new[i_lce + m, b] = lce[b]


def fiber_newton(model: Model, x, new, forces, dt: float, blocks: dict, iterations: int, records=None):
    """Replace the fibre lengths of ``new`` (the linearly implicit first guess) by the backward-Euler
    solution after ``iterations`` Newton iterations, in place (see ``integrate.backward_euler_fibers``;
    ``forces``: the forces at ``x``, for the force-length factor there). records: the model's
    ``ModelRecord`` when the caller keeps it.

    Returns ``(cos q, sin q)`` of the new coordinates, (10, B) each, for ``evaluate_forces(trig=)``
    at the next step (the same values it would compute)."""
    require()
    records = model_record(model) if records is None else records
    nb = x.shape[1]
    cq, sq = np.empty((10, nb)), np.empty((10, nb))
    _fiber_newton_kernel(x, new, kernel_forces(forces).fl, blocks["q"].start, blocks["activation"].start,
                         blocks["fiber_length"].start, float(dt), int(iterations), plain(records.paths),
                         plain(records.muscles), cq, sq)
    return cq, sq
