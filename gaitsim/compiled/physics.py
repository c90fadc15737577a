"""Compiled force evaluation and equations of motion (``dynamics.evaluate_forces`` and
``dynamics.accelerations``), following the numpy expressions term by term."""

from __future__ import annotations

import numpy as np

from .. import muscles as mus
from .. import trig
from ..contact import MODE_AIR, MODE_SLIP_BWD, MODE_SLIP_FWD, MODE_STICK
from ..dynamics import _PARENT_OF as _PARENT_TUPLE
from ..dynamics import ForceState
from ..model import Model
from ..muscle_table import PAIR_NAMES
from ..names import N_MUSCLES
from ..skeleton import PAIR_J, PAIR_K
from ._numba import _row_length, njit, numba, require, row_length
from .records import (ForceArrays, ForceSwitches, ModelRecord, SolveInputs, StateRecord, TrigRecord, force_switches,
                      model_record, plain, solve_inputs)

if numba is not None:
    from .records import named_model

_PARENT_OF = np.array(_PARENT_TUPLE, dtype=np.intp)


def _tree_elimination(parent_of):
    """A leaves-first elimination order of the 10 absolute coordinates (x, y, pelvis, torso, femur,
    tibia, foot per leg) and the sparsity of the LDL^T factor of ``M + h D`` in that order.

    The mass matrix in absolute coordinates couples a link only with its ancestors and descendants
    and with x and y (``skeleton.mass_matrix_and_forces``); joint and contact damping add entries of
    the same pattern. Eliminating each leaf before its parent, and x, y, pelvis last, creates no
    fill outside that pattern (checked here), so the factorization visits 102 entries against 210
    of a dense 10x10 LDL^T. Returns flat tables for ``_accelerations_kernel``: ``order`` (10,);
    per step s the earlier pivots k with L[j, k] != 0 (``k_of_pivot[k_start[s]:k_start[s + 1]]``)
    and the later rows i with L[i, j] != 0 (``rows[r_start[s]:r_start[s + 1]]``), and per such row
    the earlier pivots k with L[i, k] L[j, k] != 0 (``k_of_row[u_start[u]:u_start[u + 1]]``)."""
    n = len(parent_of)

    def ancestors(i):
        out, p = set(), parent_of[i]
        while p >= 0:
            out.add(p)
            p = parent_of[p]
        return out

    depth = [len(ancestors(i)) for i in range(n)]
    links = sorted(range(2, n), key=lambda i: (-depth[i], i))  # deepest first: every leaf before its parent
    order = links + [1, 0]  # x and y couple with everything: last
    nz = {(i, j) for i in range(n) for j in range(n)
          if i == j or i < 2 or j < 2 or i in ancestors(j) or j in ancestors(i)}
    k_of_pivot, k_start, rows, r_start, k_of_row, u_start = [], [0], [], [0], [], [0]
    for s, j in enumerate(order):
        earlier = order[:s]
        k_of_pivot += [k for k in earlier if (j, k) in nz]
        k_start.append(len(k_of_pivot))
        for i in order[s + 1:]:
            ks = [k for k in earlier if (i, k) in nz and (j, k) in nz]
            if (i, j) not in nz:
                if ks:
                    raise AssertionError(f"elimination order fills ({i}, {j})")
                continue
            rows.append(i)
            k_of_row += ks
            u_start.append(len(k_of_row))
        r_start.append(len(rows))
    return tuple(np.array(a, dtype=np.intp) for a in (order, k_of_pivot, k_start, rows, r_start, k_of_row, u_start))


_ELIM_ORDER, _ELIM_K, _ELIM_K_START, _ELIM_ROWS, _ELIM_R_START, _ELIM_ROW_K, _ELIM_U_START = \
    _tree_elimination(_PARENT_TUPLE)


def _factor_entries():
    """The (row, column) entries of ``M + h D`` the factorization reads, as two index arrays: the
    diagonal and, per non-zero pair, the entry ``[i, j]`` with i eliminated after j (where the
    factor keeps L[i, j]). The solve copies only these from the mass matrix."""
    later = {int(j): s for s, j in enumerate(_ELIM_ORDER)}
    pairs = [(j, j) for j in range(10)]
    for s in range(10):
        j = int(_ELIM_ORDER[s])
        pairs += [(int(i), j) for i in _ELIM_ROWS[_ELIM_R_START[s]:_ELIM_R_START[s + 1]]]
    assert all(later[i] >= later[j] for i, j in pairs)
    return np.array([i for i, _ in pairs], dtype=np.intp), np.array([j for _, j in pairs], dtype=np.intp)


def _mass_matrix_zeros():
    """The entries of the absolute-coordinate mass matrix that ``_forces_kernel`` does not write
    (x-y and the pairs of links of which neither is an ancestor of the other): it zeroes only these."""
    pairs = [(2 + int(j), 2 + int(k)) for j, k in zip(PAIR_J, PAIR_K)]
    written = ({(0, 0), (1, 1)} | {(r, 2 + i) for r in (0, 1) for i in range(8)}
               | {(2 + i, r) for r in (0, 1) for i in range(8)} | {(2 + i, 2 + i) for i in range(8)}
               | set(pairs) | {(k, j) for j, k in pairs})
    zeros = [(r, c) for r in range(10) for c in range(10) if (r, c) not in written]
    return np.array([r for r, _ in zeros], dtype=np.intp), np.array([c for _, c in zeros], dtype=np.intp)


_READ_ROW, _READ_COL = _factor_entries()
_ZERO_ROW, _ZERO_COL = _mass_matrix_zeros()
_FL_W = mus.FL_WIDTH
_INV_W, _INV_HW = mus.INV_FL_WIDTH, mus.INV_HALF_FL_WIDTH
_FL_C = mus.FL_C
_N = mus.FV_N
_K = mus.FV_K
_EK = mus.FV_ECC_SHAPE * mus.FV_K
_SLOPE = mus._SLOPE_SWITCH
_EPS = mus._DEN_EPS
_INV_PIO2, _PIO2_1, _PIO2_1T = trig.INV_PIO2, trig.PIO2_1, trig.PIO2_1T
_S1, _S2, _S3, _S4, _S5, _S6 = trig.S1, trig.S2, trig.S3, trig.S4, trig.S5, trig.S6
_C1, _C2, _C3, _C4, _C5, _C6 = trig.C1, trig.C2, trig.C3, trig.C4, trig.C5, trig.C6


if numba is not None:

    @njit(cache=True, inline="always", error_model="numpy")
    def _sin_cos(x):
        """``trig.sin_cos`` for one value, the same operations in the same order (no libm call,
        so a loop over walkers vectorizes)."""
        k = np.floor(x * _INV_PIO2 + 0.5)
        r = (x - k * _PIO2_1) - k * _PIO2_1T
        z = r * r
        s = r + (z * r) * (_S1 + z * (_S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))))
        c = 1.0 - (0.5 * z - (z * z) * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6))))))
        n = k - 4.0 * np.floor(0.25 * k)
        odd = (n == 1.0) | (n == 3.0)
        sin = c if odd else s
        cos = s if odd else c
        sin = -sin if n >= 2.0 else sin
        cos = -cos if (n == 1.0) | (n == 2.0) else cos
        return sin, cos

    @njit(cache=True, inline="always", error_model="numpy")
    def _sgn(x):
        return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)

    @njit(cache=True, inline="always", error_model="numpy")
    def _gather_sum(src, idx, out, row):
        """out[row] = src[idx[0]] + src[idx[1]] + ..., summed left to right (as ``model.gather_sum``),
        with the batch innermost."""
        nb = out.shape[1]
        i0 = idx[0]
        for b in range(nb):
            out[row, b] = src[i0, b]
        for k in range(1, idx.shape[0]):
            ik = idx[k]
            for b in range(nb):
                out[row, b] += src[ik, b]

    @njit(cache=True, inline="always", error_model="numpy")
    def _ce_state(lce, act, lm, lo, ilo, fm, ls, ils, iref, tk, pe, vmax, fl):
        """(tendon force F_se (N), v_ce (m/s), dv_ce/dl_ce (1/s)) of one muscle: ``muscles.fiber_dynamics``
        term by term, given its force-length factor ``fl`` (the exp is taken in a loop of its own).
        ilo, ils, iref, tk: ``MuscleArrays.inv_l_opt``, ``inv_l_slack``, ``inv_ref_strain``,
        ``tendon_stiffness`` (multiplications where the numpy code multiplies by the same values)."""
        ln = lce * ilo
        strain = ((lm - lce) - ls) * ils
        sp = max(strain, 0.0)
        r = sp * iref
        fse = fm * (r * r)
        kse = sp * tk
        xp = max(ln - 1.0, 0.0) * _INV_W
        kp = pe * fm
        fpe = kp * xp * xp
        dpe = 2.0 * kp * xp * _INV_W
        xb = min(ln - (1.0 - _FL_W), 0.0) * _INV_HW
        fbe = fm * xb * xb
        dbe = 2.0 * fm * xb * _INV_HW
        x = (ln - 1.0) * _INV_W
        xa = x * abs(x)
        dfl = fl * (3.0 * _FL_C / _FL_W) * xa
        num = fse + fbe
        den = act * fm * fl + fpe + _EPS * fm
        inv_den = 1.0 / den
        ratio = num * inv_den
        # the three branches of muscles.velocity_from_force_ratio, all evaluated and then selected
        # (branch-free, so the loops that inline this vectorize)
        fs_ = min(ratio, 1.0)
        i1 = 1.0 / (_K * fs_ + 1.0)
        v1 = (fs_ - 1.0) * i1
        dv1 = (1.0 + _K) * (i1 * i1)
        fc = min(max(ratio, 1.0), _N)
        d2 = (_N - 1.0) - _EK * (fc - _N)
        i2 = 1.0 / d2
        v2 = (fc - 1.0) * i2
        dv2 = (d2 + _EK * (fc - 1.0)) * (i2 * i2)
        v3 = 1.0 + _SLOPE * (ratio - _N)
        short = ratio <= 1.0
        mid = ratio <= _N
        vn = v1 if short else (v2 if mid else v3)
        dvn = dv1 if short else (dv2 if mid else _SLOPE)
        dnum = -kse + dbe * ilo
        dden = (act * fm * dfl + dpe) * ilo
        dratio = (dnum * den - num * dden) * (inv_den * inv_den)
        scale = vmax * lo
        return fse, vn * scale, dvn * dratio * scale

    @njit(cache=True, error_model="numpy")
    def _kinematics_stage(state, skeleton, write_zeros, cs, sn, out):
        """Kinematics: absolute coordinates (``skeleton.abs_from_rel``), the cos and sin of the 8
        absolute angles (into ``cs``, ``sn``, (8, rows)), the mass matrix and the velocity-product
        and gravity forces (``skeleton.mass_matrix_and_forces``), into ``out`` (``ForceArrays``).
        write_zeros False: the mass matrix's structural zeros are left as they are."""
        q, qdot = state.q, state.qdot
        psi, psidot, M, bias = out.psi, out.psidot, out.mass_matrix, out.bias
        mass_total, w, gravity = skeleton.mass_total, skeleton.w, skeleton.gravity
        A_pair, B_pair, A_diag = skeleton.A_pair, skeleton.B_pair, skeleton.A_diag
        pair_j, pair_k, bias_terms = skeleton.pair_j, skeleton.pair_k, skeleton.bias_terms
        nb = q.shape[1]
        rows = _row_length(nb)  # padded rows of the temporaries (cache sets)
        n_pair = pair_j.shape[0]
        thd2 = np.empty((8, rows))
        mx = np.empty((8, rows))
        my = np.empty((8, rows))
        terms = np.empty((2 * n_pair + 1, rows))
        for src, dst in ((q, psi), (qdot, psidot)):
            for b in range(nb):
                dst[0, b] = src[0, b]
                dst[1, b] = src[1, b]
                dst[2, b] = src[2, b]
                dst[3, b] = src[2, b] + src[3, b]
            for leg in range(2):
                o = 4 + 3 * leg
                for b in range(nb):
                    c0 = src[o, b]
                    c1 = c0 + src[o + 1, b]
                    c2 = c1 + src[o + 2, b]
                    dst[o, b] = c0 + src[2, b]
                    dst[o + 1, b] = c1 + src[2, b]
                    dst[o + 2, b] = c2 + src[2, b]
        # cos/sin of the 8 absolute angles (``trig.sin_cos``, as numpy; no libm call, so vectorized).
        # The angle-addition identities would save 8 of the 18 sine-cosine pairs of a step, but their
        # rounding-level differences from the numpy reference grow past 1e-9 within 0.5 s of walking.
        for i in range(8):
            for b in range(nb):
                sn[i, b], cs[i, b] = _sin_cos(psi[2 + i, b])
        for i in range(8):
            for b in range(nb):
                thd2[i, b] = psidot[2 + i, b] * psidot[2 + i, b]
                mx[i, b] = -w[0, i, b] * sn[i, b] - w[1, i, b] * cs[i, b]
                my[i, b] = w[0, i, b] * cs[i, b] - w[1, i, b] * sn[i, b]
        for e in range(_ZERO_ROW.shape[0] if write_zeros else 0):  # the structural zeros; every other
            r, c = _ZERO_ROW[e], _ZERO_COL[e]                       # entry is written below
            for b in range(nb):
                M[r, c, b] = 0.0
        for b in range(nb):
            M[0, 0, b] = mass_total[b]
            M[1, 1, b] = mass_total[b]
        for i in range(8):
            for b in range(nb):
                M[0, 2 + i, b] = mx[i, b]
                M[2 + i, 0, b] = mx[i, b]
                M[1, 2 + i, b] = my[i, b]
                M[2 + i, 1, b] = my[i, b]
                M[2 + i, 2 + i, b] = A_diag[i, b]
        for b in range(nb):
            terms[2 * n_pair, b] = 0.0
        for p in range(n_pair):
            j = pair_j[p]
            k = pair_k[p]
            for b in range(nb):
                cosd = cs[j, b] * cs[k, b] + sn[j, b] * sn[k, b]
                sind = cs[j, b] * sn[k, b] - sn[j, b] * cs[k, b]
                m = A_pair[p, b] * cosd + B_pair[p, b] * sind
                M[2 + j, 2 + k, b] = m
                M[2 + k, 2 + j, b] = m
                dm = B_pair[p, b] * cosd - A_pair[p, b] * sind
                terms[p, b] = -dm * thd2[k, b]
                terms[n_pair + p, b] = dm * thd2[j, b]
        for b in range(nb):
            bias[0, b] = my[0, b] * thd2[0, b]
            bias[1, b] = mx[0, b] * thd2[0, b]
        for i in range(1, 8):
            for b in range(nb):
                bias[0, b] += my[i, b] * thd2[i, b]
                bias[1, b] += mx[i, b] * thd2[i, b]
        for b in range(nb):
            bias[1, b] = -bias[1, b] - mass_total[b] * gravity[b]
        for a in range(8):
            _gather_sum(terms, bias_terms[a], bias, 2 + a)
            for b in range(nb):
                bias[2 + a, b] = bias[2 + a, b] - gravity[b] * my[a, b]

    @njit(cache=True, error_model="numpy")
    def _muscle_stage(state, paths, muscles, trig, out):
        """Muscles: path lengths and moment arms (``model.path_geometry``), tendon force and fibre
        velocity (``muscles.fiber_dynamics``), their generalized forces
        (``model.muscle_generalized_forces``), into ``out``. trig: cos and sin of q when known."""
        q, act, lce = state.q, state.activation, state.fiber_length
        pair_coord, arm_cos, arm_sin, arm_const = paths.pair_coord, paths.arm_cos, paths.arm_sin, paths.arm_const
        length_const, l_ref = paths.length_const, paths.l_ref
        inv_l_opt = muscles.inv_l_opt
        l_mtu, arms, f_se, v_ce, dv_dl = out.mtu_length, out.moment_arms, out.force, out.fiber_velocity, out.dv_dl
        f_l, l_norm, mmom = out.fl, out.fiber_length_norm, out.muscle_moment
        nb = q.shape[1]
        rows = _row_length(nb)  # padded rows of the temporaries (cache sets)
        n_mp = arm_cos.shape[0]
        n_mus = l_ref.shape[0]
        if trig.known:  # cos and sin of q from the previous step's fibre update (the same values)
            cq = trig.cos
            sq = trig.sin
        else:
            cq = np.empty((10, rows))
            sq = np.empty((10, rows))
            for i in range(10):
                for b in range(nb):
                    sq[i, b], cq[i, b] = _sin_cos(q[i, b])
        dl = np.empty((n_mp + 1, rows))
        tq = np.empty((n_mp + 1, rows))
        for b in range(nb):
            dl[n_mp, b] = 0.0
            tq[n_mp, b] = 0.0
        for p in range(n_mp):
            c = pair_coord[p]
            for b in range(nb):
                cqc = cq[c, b]
                sqc = sq[c, b]
                arms[p, b] = arm_cos[p, b] * cqc + arm_sin[p, b] * sqc + arm_const[p, b]
                dl[p, b] = length_const[p, b] - (arm_cos[p, b] * sqc - arm_sin[p, b] * cqc
                                                  + arm_const[p, b] * q[c, b])
        for m in range(n_mus):
            _gather_sum(dl, paths.muscle_pairs[m], l_mtu, m)
            for b in range(nb):
                l_mtu[m, b] = l_ref[m, b] + l_mtu[m, b]
                x = (lce[m, b] * inv_l_opt[m, b] - 1.0) * _INV_W
                f_l[m, b] = _FL_C * ((x * abs(x)) * x)  # exponent; exp taken below
            for b in range(nb):  # libm exp: its own loop
                f_l[m, b] = np.exp(f_l[m, b])
            for b in range(nb):
                ilo = inv_l_opt[m, b]
                l_norm[m, b] = lce[m, b] * ilo
                fse, v, dv = _ce_state(lce[m, b], act[m, b], l_mtu[m, b], muscles.l_opt[m, b], ilo,
                                       muscles.f_max[m, b], muscles.l_slack[m, b], muscles.inv_l_slack[m, b],
                                       muscles.inv_ref_strain[m, b], muscles.tendon_stiffness[m, b],
                                       muscles.pe_factor[m, b], muscles.v_max[m, b], f_l[m, b])
                f_se[m, b] = fse
                v_ce[m, b] = v
                dv_dl[m, b] = dv
        for p in range(n_mp):
            pm = paths.pair_muscle[p]
            for b in range(nb):
                tq[p, b] = arms[p, b] * f_se[pm, b]
        for c in range(10):
            _gather_sum(tq, paths.coord_pairs[c], mmom, c)

    @njit(cache=True, error_model="numpy")
    def _zero_muscle_outputs(out):
        """The muscle fields of ``out`` without muscles: zero."""
        nb = out.force.shape[1]
        for m in range(out.force.shape[0]):
            for b in range(nb):
                out.mtu_length[m, b] = 0.0
                out.force[m, b] = 0.0
                out.fiber_velocity[m, b] = 0.0
                out.dv_dl[m, b] = 0.0
                out.fl[m, b] = 0.0
                out.fiber_length_norm[m, b] = 0.0
        for p in range(out.moment_arms.shape[0]):
            for b in range(nb):
                out.moment_arms[p, b] = 0.0
        for c in range(10):
            for b in range(nb):
                out.muscle_moment[c, b] = 0.0

    @njit(cache=True, error_model="numpy")
    def _contact_stage(state, skeleton, contact, switches, cs, sn, out):
        """Contact: sphere positions, velocities and Jacobians (``skeleton.foot_point_kinematics``),
        normal and friction forces with their damping and the friction state to carry on
        (``contact.normal_force``, ``contact.friction_force``), into ``out``. cs, sn: cos and sin
        of the absolute angles (``_kinematics_stage``)."""
        nb = state.q.shape[1]
        anchor_in, mode_in = state.anchor, state.mode
        psi, psidot, leg_links = out.psi, out.psidot, skeleton.leg_links
        pos, vel, jac = out.sphere_pos, out.sphere_vel, out.contact_jac
        fn, ft, cn, ct, anchor, mode = out.fn, out.ft, out.cn, out.ct, out.anchor, out.mode
        sphere_x, sphere_y, radius = contact.sphere_x, contact.sphere_y, contact.radius
        k_n, v_n = contact.normal_stiffness, contact.normal_damping_velocity
        k_t, v_t = contact.tangential_stiffness, contact.tangential_damping_velocity
        mu_stick, mu_slide = contact.stick_friction, contact.slide_friction
        v_stick, v_reg = contact.stick_velocity, contact.regularization_velocity
        for leg in range(2):
            ife, iti, ifo = 2 + 3 * leg, 3 + 3 * leg, 4 + 3 * leg
            for s in range(2):
                for b in range(nb):
                    cp_, sp_ = cs[0, b], sn[0, b]
                    cfe, sfe = cs[ife, b], sn[ife, b]
                    cti, sti = cs[iti, b], sn[iti, b]
                    cfo, sfo = cs[ifo, b], sn[ifo, b]
                    hx = cp_ * leg_links[0, 0, leg, b] - sp_ * leg_links[0, 1, leg, b]
                    hy = sp_ * leg_links[0, 0, leg, b] + cp_ * leg_links[0, 1, leg, b]
                    kx = cfe * leg_links[1, 0, leg, b] - sfe * leg_links[1, 1, leg, b]
                    ky = sfe * leg_links[1, 0, leg, b] + cfe * leg_links[1, 1, leg, b]
                    ax = cti * leg_links[2, 0, leg, b] - sti * leg_links[2, 1, leg, b]
                    ay = sti * leg_links[2, 0, leg, b] + cti * leg_links[2, 1, leg, b]
                    r0 = psidot[2, b]
                    r1 = psidot[4 + 3 * leg, b]
                    r2 = psidot[5 + 3 * leg, b]
                    r3 = psidot[6 + 3 * leg, b]
                    px = cfo * sphere_x[leg, s, b] - sfo * sphere_y[leg, s, b]
                    py = sfo * sphere_x[leg, s, b] + cfo * sphere_y[leg, s, b]
                    x = (((psi[0, b] + hx) + kx) + ax) + px
                    y = (((psi[1, b] + hy) + ky) + ay) + py
                    pos[0, leg, s, b] = x
                    pos[1, leg, s, b] = y
                    jac[0, leg, s, 0, b] = -hy
                    jac[0, leg, s, 1, b] = -ky
                    jac[0, leg, s, 2, b] = -ay
                    jac[0, leg, s, 3, b] = -py
                    jac[1, leg, s, 0, b] = hx
                    jac[1, leg, s, 1, b] = kx
                    jac[1, leg, s, 2, b] = ax
                    jac[1, leg, s, 3, b] = px
                    vx = psidot[0, b] + (((-hy * r0 + -ky * r1) + -ay * r2) + -py * r3)
                    vy = psidot[1, b] + (((hx * r0 + kx * r1) + ax * r2) + px * r3)
                    vel[0, leg, s, b] = vx
                    vel[1, leg, s, b] = vy
                if not switches.contact:
                    for b in range(nb):
                        fn[leg, s, b] = 0.0
                        ft[leg, s, b] = 0.0
                        cn[leg, s, b] = 0.0
                        ct[leg, s, b] = 0.0
                        anchor[leg, s, b] = pos[0, leg, s, b]
                        mode[leg, s, b] = 0.0
                    continue
                for b in range(nb):
                    pen = radius[leg, s, b] - pos[1, leg, s, b]
                    factor = 1.0 - vel[1, leg, s, b] / v_n[b]
                    on = pen > 0.0 and factor > 0.0
                    fn[leg, s, b] = k_n[b] * pen * factor if on else 0.0
                    cn[leg, s, b] = k_n[b] * pen / v_n[b] if on else 0.0
                if switches.regularized_friction:
                    for b in range(nb):
                        vx = vel[0, leg, s, b]
                        fnv = fn[leg, s, b]
                        root = np.sqrt(vx * vx + v_reg[b] * v_reg[b])
                        ft[leg, s, b] = -mu_slide[b] * fnv * vx / root
                        ct[leg, s, b] = mu_slide[b] * fnv * v_reg[b] * v_reg[b] / (root * root * root)
                        anchor[leg, s, b] = pos[0, leg, s, b]
                        mode[leg, s, b] = MODE_STICK if fnv > 0.0 else MODE_AIR
                    continue
                for b in range(nb):
                    x = pos[0, leg, s, b]
                    vx = vel[0, leg, s, b]
                    fnv = fn[leg, s, b]
                    md = mode_in[leg, s, b]
                    loaded = fnv > 0.0
                    slip_dir = 1.0 if md == MODE_SLIP_FWD else (-1.0 if md == MODE_SLIP_BWD else 0.0)
                    sliding = loaded and slip_dir != 0.0
                    resumes = sliding and (abs(vx) < v_stick[b] or _sgn(vx) != slip_dir)
                    sliding = sliding and not resumes
                    anc = x if ((not loaded) or resumes or md == MODE_AIR) else anchor_in[leg, s, b]
                    dx = x - anc
                    fac = max(1.0 + _sgn(dx) * vx / v_t[b], 0.0)
                    f_stick = -k_t[b] * dx * fac
                    c_stick = k_t[b] * abs(dx) / v_t[b] if fac > 0.0 else 0.0
                    starts = loaded and (not sliding) and abs(f_stick) > mu_stick[b] * fnv
                    slipping = sliding or starts
                    direction = (1.0 if vx >= 0.0 else -1.0) if starts else slip_dir
                    sticking = loaded and not slipping
                    # selects rather than if/else blocks, so the loop vectorizes
                    ft[leg, s, b] = f_stick if sticking else (-direction * mu_slide[b] * fnv if slipping else 0.0)
                    ct[leg, s, b] = c_stick if sticking else 0.0
                    anchor[leg, s, b] = anc
                    slip_mode = MODE_SLIP_FWD if direction > 0.0 else MODE_SLIP_BWD
                    mode[leg, s, b] = MODE_AIR if not loaded else (slip_mode if slipping else MODE_STICK)

    @njit(cache=True, error_model="numpy")
    def _limit_stage(state, limits, use_limits, out):
        """Joint limits (``joint_limits.limit_torques``) on rows 3..9, into ``out``."""
        q, qdot = state.q, state.qdot
        lim_m, lim_d = out.limit_moment, out.limit_damping
        lim_lo, lim_hi, lim_k, lim_w = limits.lower, limits.upper, limits.stiffness, limits.w_max
        nb = q.shape[1]
        for c in range(10):
            for b in range(nb):
                lim_m[c, b] = 0.0
                lim_d[c, b] = 0.0
        if use_limits:
            for i in range(7):
                c = 3 + i
                for b in range(nb):
                    pen_lo = lim_lo[i, b] - q[c, b]
                    pen_hi = q[c, b] - lim_hi[i, b]
                    f_lo = 1.0 - qdot[c, b] / lim_w[b]
                    f_hi = 1.0 + qdot[c, b] / lim_w[b]
                    on_lo = pen_lo > 0.0 and f_lo > 0.0
                    on_hi = pen_hi > 0.0 and f_hi > 0.0
                    t_lo = lim_k[b] * pen_lo * f_lo if on_lo else 0.0
                    t_hi = lim_k[b] * pen_hi * f_hi if on_hi else 0.0
                    d_lo = lim_k[b] * pen_lo / lim_w[b] if on_lo else 0.0
                    d_hi = lim_k[b] * pen_hi / lim_w[b] if on_hi else 0.0
                    lim_m[c, b] = t_lo - t_hi
                    lim_d[c, b] = d_lo + d_hi

    @njit(cache=True, error_model="numpy")
    def _forces_kernel(state, model, switches, trig, out, write_zeros):
        """``dynamics.evaluate_forces`` as stages, each a loop over the batch innermost on rows that
        are contiguous in the batch (the compiler vectorizes these loops across walkers, SIMD):
        kinematics -> muscles -> contact -> joint limits. Records: ``StateRecord``,
        ``ModelRecord``, ``ForceSwitches``, ``TrigRecord``, ``ForceArrays`` (written). write_zeros
        False: the constant zeros (the mass matrix's structural zeros and, without muscles, the
        muscle outputs) are left as they are (arrays that hold them already)."""
        rows = _row_length(state.q.shape[1])
        cs = np.empty((8, rows))  # cos and sin of the absolute angles: kinematics and contact
        sn = np.empty((8, rows))
        _kinematics_stage(state, model.skeleton, write_zeros, cs, sn, out)
        if switches.muscles:
            _muscle_stage(state, model.paths, model.muscles, trig, out)
        elif write_zeros:
            _zero_muscle_outputs(out)
        _contact_stage(state, model.skeleton, model.contact, switches, cs, sn, out)
        _limit_stage(state, model.limits, switches.joint_limits, out)

    @njit(cache=True, error_model="numpy")
    def _forces_entry(state, model, switches, trig, out, write_zeros):
        """``_forces_kernel`` from Python: the records come as plain tuples (``records.plain``)."""
        _forces_kernel(StateRecord(*state), named_model(model), ForceSwitches(*switches), TrigRecord(*trig),
                       ForceArrays(*out), write_zeros)

    @njit(cache=True, inline="always", error_model="numpy")
    def _damping_x(jac, c, xy, leg, i, b):
        """``D[2+i, xy] = D[xy, 2+i]`` of one leg's contact damping block ``J^T C J`` (unscaled):
        sphere 0 then sphere 1, as numpy (``c``: ct for x, cn for y)."""
        return c[leg, 0, b] * jac[xy, leg, 0, i, b] + c[leg, 1, b] * jac[xy, leg, 1, i, b]

    @njit(cache=True, inline="always", error_model="numpy")
    def _damping_links(jac, cn, ct, leg, i, k, b):
        """``D[2+i, 2+k]`` of one leg's contact damping block on its links (pelvis, femur, tibia,
        foot), in the order of the numpy expression."""
        return (((ct[leg, 0, b] * jac[0, leg, 0, i, b]) * jac[0, leg, 0, k, b]
                 + (cn[leg, 0, b] * jac[1, leg, 0, i, b]) * jac[1, leg, 0, k, b])
                + ((ct[leg, 1, b] * jac[0, leg, 1, i, b]) * jac[0, leg, 1, k, b]
                   + (cn[leg, 1, b] * jac[1, leg, 1, i, b]) * jac[1, leg, 1, k, b]))

    @njit(cache=True, inline="always", error_model="numpy")
    def _add_contact_damping(A, jac, cn, ct, h, nb):
        """``A += h J^T C J`` of the contact spheres, h the damping step (s)
        (``dynamics._add_contact_damping``): per leg a block D on (x, y, pelvis, femur, tibia, foot),
        each entry computed where it is added (no temporary D: it was 72 rows of the batch,
        written, scaled and read again). The root block
        (x, y, pelvis) takes both legs' entries, ``D_r h + D_l h``. Only the entries the
        factorization reads are written (``_factor_entries``: the upper triangle within a leg, the
        x, y and pelvis rows against the legs)."""
        for b in range(nb):
            A[0, 0, b] += (ct[0, 0, b] + ct[0, 1, b]) * h + (ct[1, 0, b] + ct[1, 1, b]) * h
            A[1, 1, b] += (cn[0, 0, b] + cn[0, 1, b]) * h + (cn[1, 0, b] + cn[1, 1, b]) * h
        for xy in range(2):  # x or y against the pelvis (D[0, 2], D[1, 2])
            c = ct if xy == 0 else cn
            for b in range(nb):
                A[xy, 2, b] += _damping_x(jac, c, xy, 0, 0, b) * h + _damping_x(jac, c, xy, 1, 0, b) * h
        for b in range(nb):
            A[2, 2, b] += (_damping_links(jac, cn, ct, 0, 0, 0, b) * h
                           + _damping_links(jac, cn, ct, 1, 0, 0, b) * h)
        for leg in range(2):
            o = 4 + 3 * leg
            for i in range(3):  # the leg's links femur, tibia, foot: D index 3 + i, link 1 + i
                for k in range(i, 3):
                    for b in range(nb):
                        A[o + i, o + k, b] += _damping_links(jac, cn, ct, leg, 1 + i, 1 + k, b) * h
                for xy in range(2):
                    c = ct if xy == 0 else cn
                    for b in range(nb):
                        A[xy, o + i, b] += _damping_x(jac, c, xy, leg, 1 + i, b) * h
                for b in range(nb):
                    A[2, o + i, b] += _damping_links(jac, cn, ct, leg, 0, 1 + i, b) * h

    @njit(cache=True, error_model="numpy")
    def _accelerations_kernel(solve, torque, damping, damping_step, use_contact, qdd):
        """``dynamics.accelerations``: qddot (10, B) into ``qdd`` from the ``SolveInputs`` ``solve``,
        the actuators' torque and damping (10, B), the damping taken implicitly over
        ``damping_step`` (s; 0: none). Batch-innermost loops, as in ``_forces_kernel``."""
        M_in, bias, mmom = solve.mass_matrix, solve.bias, solve.muscle_moment
        lim_m, lim_d, jac = solve.limit_moment, solve.limit_damping, solve.contact_jac
        fn, ft, cn, ct = solve.fn, solve.ft, solve.cn, solve.ct
        nb = qdd.shape[1]  # the inputs may have padded rows (row_length)
        rows = _row_length(nb)  # padded rows of the temporaries (cache sets)
        tau = np.empty((10, rows))
        Q = np.empty((10, rows))
        A = np.empty((10, 10, rows))
        dvec = np.empty((10, rows))
        dinv = np.empty((10, rows))
        for c in range(10):
            for b in range(nb):
                tau[c, b] = (mmom[c, b] + lim_m[c, b]) + torque[c, b]
        for b in range(nb):
            Q[0, b] = tau[0, b]
            Q[1, b] = tau[1, b]
            Q[2, b] = ((tau[2, b] - tau[3, b]) - tau[4, b]) - tau[7, b]
            Q[3, b] = tau[3, b]
        for leg in range(2):
            o = 4 + 3 * leg
            for b in range(nb):
                Q[o, b] = tau[o, b] - tau[o + 1, b]
                Q[o + 1, b] = tau[o + 1, b] - tau[o + 2, b]
                Q[o + 2, b] = tau[o + 2, b]
        for b in range(nb):
            Q[0, b] += (ft[0, 0, b] + ft[1, 0, b]) + (ft[0, 1, b] + ft[1, 1, b])
            Q[1, b] += (fn[0, 0, b] + fn[1, 0, b]) + (fn[0, 1, b] + fn[1, 1, b])
        for k in range(4):
            for b in range(nb):
                g0 = ((jac[0, 0, 0, k, b] * ft[0, 0, b] + jac[1, 0, 0, k, b] * fn[0, 0, b])
                      + (jac[0, 0, 1, k, b] * ft[0, 1, b] + jac[1, 0, 1, k, b] * fn[0, 1, b]))
                g1 = ((jac[0, 1, 0, k, b] * ft[1, 0, b] + jac[1, 1, 0, k, b] * fn[1, 0, b])
                      + (jac[0, 1, 1, k, b] * ft[1, 1, b] + jac[1, 1, 1, k, b] * fn[1, 1, b]))
                if k == 0:
                    Q[2, b] += g0 + g1
                else:
                    Q[3 + k, b] += g0
                    Q[6 + k, b] += g1
        for e in range(_READ_ROW.shape[0]):  # the entries the factorization reads (_factor_entries)
            r, c = _READ_ROW[e], _READ_COL[e]
            for b in range(nb):
                A[r, c, b] = M_in[r, c, b]
        if damping_step > 0.0:
            for j in range(10):
                p = _PARENT_OF[j]
                for b in range(nb):
                    d = (lim_d[j, b] + damping[j, b]) * damping_step
                    A[j, j, b] += d
                    if p >= 0:  # A[p, j]: the entry of the pair the factorization reads (p after j)
                        A[p, p, b] += d
                        A[p, j, b] -= d
            if use_contact:
                _add_contact_damping(A, jac, cn, ct, damping_step, nb)
        # LDL^T solve of A x = bias + Q (A symmetric positive definite) in the leaves-first order of
        # _tree_elimination, over the factor's non-zero entries only; batch innermost. L[i, j] is kept
        # in A[i, j] (i eliminated after j), D in dvec and 1/D in dinv (one division per pivot; the
        # factor's entries and the back substitution multiply by it).
        rhs = Q
        for i in range(10):
            for b in range(nb):
                rhs[i, b] = bias[i, b] + Q[i, b]
        # (the k sums run outside the batch loop, in the same order for every walker)
        u = 0
        for s in range(10):
            j = _ELIM_ORDER[s]
            for b in range(nb):
                dvec[j, b] = A[j, j, b]
            for t in range(_ELIM_K_START[s], _ELIM_K_START[s + 1]):
                k = _ELIM_K[t]
                for b in range(nb):
                    dvec[j, b] -= A[j, k, b] * A[j, k, b] * dvec[k, b]
            for b in range(nb):
                dinv[j, b] = 1.0 / dvec[j, b]
            for r in range(_ELIM_R_START[s], _ELIM_R_START[s + 1]):
                i = _ELIM_ROWS[r]
                for t in range(_ELIM_U_START[u], _ELIM_U_START[u + 1]):
                    k = _ELIM_ROW_K[t]
                    for b in range(nb):
                        A[i, j, b] -= A[i, k, b] * A[j, k, b] * dvec[k, b]
                for b in range(nb):
                    A[i, j, b] = A[i, j, b] * dinv[j, b]
                u += 1
        for s in range(10):  # L y = rhs
            j = _ELIM_ORDER[s]
            for t in range(_ELIM_K_START[s], _ELIM_K_START[s + 1]):
                k = _ELIM_K[t]
                for b in range(nb):
                    rhs[j, b] -= A[j, k, b] * rhs[k, b]
        for s in range(9, -1, -1):  # L^T x = D^-1 y
            j = _ELIM_ORDER[s]
            for b in range(nb):
                rhs[j, b] = rhs[j, b] * dinv[j, b]
            for r in range(_ELIM_R_START[s], _ELIM_R_START[s + 1]):
                i = _ELIM_ROWS[r]
                for b in range(nb):
                    rhs[j, b] -= A[i, j, b] * rhs[i, b]
        x = rhs
        # rel_from_abs
        for b in range(nb):
            qdd[0, b] = x[0, b]
            qdd[1, b] = x[1, b]
            qdd[2, b] = x[2, b]
            qdd[3, b] = x[3, b] - x[2, b]
        for leg in range(2):
            o = 4 + 3 * leg
            for b in range(nb):
                qdd[o, b] = x[o, b] - x[2, b]
                qdd[o + 1, b] = x[o + 1, b] - x[o, b]
                qdd[o + 2, b] = x[o + 2, b] - x[o + 1, b]

    @njit(cache=True, error_model="numpy")
    def _accelerations_entry(solve, torque, damping, damping_step, use_contact, qdd):
        """``_accelerations_kernel`` from Python: ``solve`` comes as a plain tuple (``records.plain``)."""
        _accelerations_kernel(SolveInputs(*solve), torque, damping, damping_step, use_contact, qdd)


_NO_TRIG = (np.empty((10, 0)), np.empty((10, 0)))  # placeholders for the kernel's trig arguments


#: the shape of each ``ForceArrays`` field without its batch axis (``dynamics.ForceState``)
_FORCE_SHAPES = {"psi": (10,), "psidot": (10,), "mass_matrix": (10, 10), "bias": (10,),
                 "mtu_length": (N_MUSCLES,), "moment_arms": (len(PAIR_NAMES),), "force": (N_MUSCLES,),
                 "fiber_velocity": (N_MUSCLES,), "dv_dl": (N_MUSCLES,), "fl": (N_MUSCLES,),
                 "fiber_length_norm": (N_MUSCLES,), "muscle_moment": (10,), "sphere_pos": (2, 2, 2),
                 "sphere_vel": (2, 2, 2), "contact_jac": (2, 2, 2, 4), "fn": (2, 2), "ft": (2, 2), "cn": (2, 2),
                 "ct": (2, 2), "anchor": (2, 2), "mode": (2, 2), "limit_moment": (10,), "limit_damping": (10,)}
assert set(_FORCE_SHAPES) == set(ForceArrays._fields)


def new_force_arrays(model: Model, nb: int) -> ForceArrays:
    """Uninitialized output arrays of ``_forces_kernel`` for ``nb`` walkers of ``model``, with padded
    rows (``row_length``)."""
    rows = row_length(nb)
    return ForceArrays._make([np.empty(_FORCE_SHAPES[name] + (rows,)) for name in ForceArrays._fields])


def zeroed_force_arrays(model: Model, nb: int) -> ForceArrays:
    """``new_force_arrays(model, nb)`` filled with zeros: output arrays that already hold every
    constant zero the force kernel writes (``evaluate_forces(outputs_zeroed=True)``)."""
    arrays = new_force_arrays(model, nb)
    for a in arrays:
        a.fill(0.0)
    return arrays


def force_arrays(forces) -> tuple:
    """The kernels' arrays of a ``ForceState`` (``kernel_forces``): its ``ForceArrays``, as a plain
    tuple (``records.plain``)."""
    arrays = kernel_forces(forces)
    return tuple([getattr(arrays, name) for name in ForceArrays._fields])


def actuator_rows(values, nb: int) -> np.ndarray:
    """Actuator torques or damping (10, B) as a C-contiguous array for the kernels; new zeros for
    None (a run keeps one zero array instead: ``update.StepWorkspace.no_actuator``)."""
    if values is None:
        return np.zeros((10, nb))
    return np.ascontiguousarray(np.broadcast_to(values, (10, nb)))


def evaluate_forces(model: Model, q, qdot, act, lce, anchor, mode, muscles: bool = True, trig=None, outputs=None,
                    outputs_zeroed: bool = False, records: ModelRecord | None = None):
    """Compiled ``dynamics.evaluate_forces`` (same arguments, same ``ForceState``).

    trig: optional ``(cos q, sin q)``, (10, B) each, already computed for these coordinates
    (``fiber_newton`` returns them for the state it updates); saves 10 sine-cosine pairs per walker.
    outputs: optional ``ForceArrays`` from ``new_force_arrays(model, B)`` to write into
    (overwritten; the returned ``ForceState`` views them), instead of new ones. outputs_zeroed:
    they already hold what this call would write as constant zeros (``zeroed_force_arrays``, or
    filled by an earlier call with the same ``muscles``): the mass matrix's 32 structural zeros
    are then not written again. records: the model's ``ModelRecord`` when the caller keeps it
    (``records.model_record(model)``, made here otherwise)."""
    require()
    nb = q.shape[1]
    if outputs is None:  # padded rows (see _numba.row_length); the kernels get the full arrays
        outputs = new_force_arrays(model, nb)
    if records is None:
        records = model_record(model)
    cos_sin = _NO_TRIG if trig is None else trig
    _forces_entry(plain(StateRecord(q, qdot, act, lce, anchor, mode)), plain(records),
                  plain(force_switches(model, muscles)), (trig is not None, *cos_sin), plain(outputs),
                  not outputs_zeroed)
    full = ForceState(q, qdot, *outputs)  # ForceArrays: the ForceState fields after q and qdot, in order
    if row_length(nb) == nb:
        return full
    return ForceState(q, qdot, *(a[..., :nb] for a in outputs), padded=full)


def kernel_forces(forces):
    """The ``ForceState`` whose arrays the kernels take: ``forces.padded`` when ``evaluate_forces``
    padded the rows, else ``forces`` (its arrays must then be C-contiguous)."""
    return forces if forces.padded is None else forces.padded


def accelerations(model: Model, forces, actuator_torque=None, actuator_damping=None, damping_step: float = 0.0):
    """Compiled ``dynamics.accelerations`` (same arguments and result)."""
    require()
    nb = forces.q.shape[1]
    torque, damping = actuator_rows(actuator_torque, nb), actuator_rows(actuator_damping, nb)
    qdd = np.empty((10, nb))
    _accelerations_entry(solve_inputs(kernel_forces(forces)), torque, damping, float(damping_step),
                         bool(model.options.contact), qdd)
    return qdd
