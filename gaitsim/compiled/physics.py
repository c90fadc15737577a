"""Compiled force evaluation and equations of motion (``dynamics.evaluate_forces`` and
``dynamics.accelerations``), following the numpy expressions term by term."""

from __future__ import annotations

import numpy as np

from .. import muscles as mus
from ..contact import MODE_AIR, MODE_SLIP_BWD, MODE_SLIP_FWD, MODE_STICK
from ..dynamics import _PARENT_OF as _PARENT_TUPLE
from ..model import COORD_PAIRS, MUSCLE_PAIRS, PAIR_COORD_INDEX, PAIR_MUSCLE_INDEX, Model
from ..skeleton import BIAS_TERMS, PAIR_J, PAIR_K
from ._numba import njit, numba, require

_PARENT_OF = np.array(_PARENT_TUPLE, dtype=np.intp)
_FL_W = mus.FL_WIDTH
_FL_C = mus.FL_C
_N = mus.FV_N
_K = mus.FV_K
_EK = mus.FV_ECC_SHAPE * mus.FV_K
_SLOPE = mus._SLOPE_SWITCH
_EPS = mus._DEN_EPS


if numba is not None:

    @njit(cache=True, inline="always")
    def _sgn(x):
        return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)

    @njit(cache=True)
    def _ldl_solve_inplace(A, rhs, d):
        """Solve A x = rhs for a small symmetric positive definite A by LDL^T.

        A's strict lower triangle is overwritten by L, ``d`` (scratch, n) by D, ``rhs`` by x.
        """
        n = rhs.shape[0]
        for j in range(n):
            dj = A[j, j]
            for k in range(j):
                dj -= A[j, k] * A[j, k] * d[k]
            d[j] = dj
            for i in range(j + 1, n):
                lij = A[i, j]
                for k in range(j):
                    lij -= A[i, k] * A[j, k] * d[k]
                A[i, j] = lij / dj
        for i in range(n):
            for k in range(i):
                rhs[i] -= A[i, k] * rhs[k]
        for i in range(n - 1, -1, -1):
            xi = rhs[i] / d[i]
            for k in range(i + 1, n):
                xi -= A[k, i] * rhs[k]
            rhs[i] = xi

    @njit(cache=True)
    def _forces_kernel(q, qdot, act, lce, anchor_in, mode_in,
                       mass_total, w, A_pair, B_pair, A_diag, leg_links, gravity, pair_j, pair_k, bias_terms,
                       pair_coord, arm_cos, arm_sin, arm_const, length_const, l_ref, muscle_pairs, coord_pairs,
                       pair_muscle,
                       f_max, l_opt, l_slack, v_max, ref_strain, pe_factor,
                       sphere_x, sphere_y, radius, k_n, v_n, k_t, v_t, mu_stick, mu_slide, v_stick, v_reg,
                       lim_lo, lim_hi, lim_k, lim_w,
                       use_muscles, use_contact, use_limits, regularized,
                       psi, psidot, M, bias, l_mtu, arms, f_se, v_ce, dv_dl, f_l, l_norm, mmom,
                       pos, vel, jac, fn, ft, cn, ct, anchor, mode, lim_m, lim_d):
        nb = q.shape[1]
        n_pair = pair_j.shape[0]
        n_mp = arm_cos.shape[0]
        n_mus = l_ref.shape[0]
        # per-walker scratch rows, allocated once (heap allocations inside the loop cost ~0.1 us each)
        n_s = 63 + 2 * n_pair + 1 + 2 * (n_mp + 1)
        scratch = np.empty((nb, n_s))
        for b in range(nb):
            row = scratch[b]
            cs = row[0:8]
            sn = row[8:16]
            thd2 = row[16:24]
            mx = row[24:32]
            my = row[32:40]
            terms = row[40:40 + 2 * n_pair + 1]
            dl = row[41 + 2 * n_pair:42 + 2 * n_pair + n_mp]
            tq = row[42 + 2 * n_pair + n_mp:43 + 2 * n_pair + 2 * n_mp]
            cq = row[43 + 2 * n_pair + 2 * n_mp:53 + 2 * n_pair + 2 * n_mp]
            sq = row[53 + 2 * n_pair + 2 * n_mp:63 + 2 * n_pair + 2 * n_mp]
            # --- absolute coordinates (skeleton.abs_from_rel) ---
            for src, dst in ((q, psi), (qdot, psidot)):
                dst[0, b] = src[0, b]
                dst[1, b] = src[1, b]
                dst[2, b] = src[2, b]
                dst[3, b] = src[2, b] + src[3, b]
                for leg in range(2):
                    o = 4 + 3 * leg
                    c0 = src[o, b]
                    c1 = c0 + src[o + 1, b]
                    c2 = c1 + src[o + 2, b]
                    dst[o, b] = c0 + src[2, b]
                    dst[o + 1, b] = c1 + src[2, b]
                    dst[o + 2, b] = c2 + src[2, b]
            # --- mass matrix and velocity/gravity forces (skeleton.mass_matrix_and_forces) ---
            for i in range(8):
                cs[i] = np.cos(psi[2 + i, b])
                sn[i] = np.sin(psi[2 + i, b])
                thd2[i] = psidot[2 + i, b] * psidot[2 + i, b]
                mx[i] = -w[0, i, b] * sn[i] - w[1, i, b] * cs[i]
                my[i] = w[0, i, b] * cs[i] - w[1, i, b] * sn[i]
            for i in range(10):
                for j in range(10):
                    M[i, j, b] = 0.0
            M[0, 0, b] = mass_total[b]
            M[1, 1, b] = mass_total[b]
            for i in range(8):
                M[0, 2 + i, b] = mx[i]
                M[2 + i, 0, b] = mx[i]
                M[1, 2 + i, b] = my[i]
                M[2 + i, 1, b] = my[i]
                M[2 + i, 2 + i, b] = A_diag[i, b]
            terms[2 * n_pair] = 0.0
            for p in range(n_pair):
                j = pair_j[p]
                k = pair_k[p]
                cosd = cs[j] * cs[k] + sn[j] * sn[k]
                sind = cs[j] * sn[k] - sn[j] * cs[k]
                m = A_pair[p, b] * cosd + B_pair[p, b] * sind
                M[2 + j, 2 + k, b] = m
                M[2 + k, 2 + j, b] = m
                dm = B_pair[p, b] * cosd - A_pair[p, b] * sind
                terms[p] = -dm * thd2[k]
                terms[n_pair + p] = dm * thd2[j]
            s0 = my[0] * thd2[0]
            s1 = mx[0] * thd2[0]
            for i in range(1, 8):
                s0 += my[i] * thd2[i]
                s1 += mx[i] * thd2[i]
            bias[0, b] = s0
            bias[1, b] = -s1 - mass_total[b] * gravity[b]
            for a in range(8):
                acc = terms[bias_terms[a, 0]]
                for k in range(1, bias_terms.shape[1]):
                    acc += terms[bias_terms[a, k]]
                bias[2 + a, b] = acc - gravity[b] * my[a]

            # --- muscles (model.path_geometry, muscles.fiber_dynamics, muscle_generalized_forces) ---
            if use_muscles:
                dl[n_mp] = 0.0
                for i in range(10):
                    cq[i] = np.cos(q[i, b])
                    sq[i] = np.sin(q[i, b])
                for p in range(n_mp):
                    c = pair_coord[p]
                    cqc = cq[c]
                    sqc = sq[c]
                    arms[p, b] = arm_cos[p, b] * cqc + arm_sin[p, b] * sqc + arm_const[p, b]
                    dl[p] = length_const[p, b] - (arm_cos[p, b] * sqc - arm_sin[p, b] * cqc
                                                  + arm_const[p, b] * q[c, b])
                for m in range(n_mus):
                    acc = dl[muscle_pairs[m, 0]]
                    for k in range(1, muscle_pairs.shape[1]):
                        acc += dl[muscle_pairs[m, k]]
                    lm = l_ref[m, b] + acc
                    l_mtu[m, b] = lm
                    lo = l_opt[m, b]
                    fm = f_max[m, b]
                    ln = lce[m, b] / lo
                    l_norm[m, b] = ln
                    ls = l_slack[m, b]
                    ref = ref_strain[m, b]
                    strain = ((lm - lce[m, b]) - ls) / ls
                    sp = max(strain, 0.0)
                    r = sp / ref
                    fse = fm * (r * r)
                    kse = 2.0 * fm * sp / ((ref * ref) * ls)
                    xp = max(ln - 1.0, 0.0) / _FL_W
                    kp = pe_factor[m, b] * fm
                    fpe = kp * xp * xp
                    dpe = 2.0 * kp * xp / _FL_W
                    xb = min(ln - (1.0 - _FL_W), 0.0) / (0.5 * _FL_W)
                    fbe = fm * xb * xb
                    dbe = 2.0 * fm * xb / (0.5 * _FL_W)
                    x = (ln - 1.0) / _FL_W
                    xa = x * abs(x)
                    fl = np.exp(_FL_C * (xa * x))
                    dfl = fl * (3.0 * _FL_C / _FL_W) * xa
                    num = fse + fbe
                    den = act[m, b] * fm * fl + fpe + _EPS * fm
                    ratio = num / den
                    if ratio <= 1.0:
                        fs_ = min(ratio, 1.0)
                        vn = (fs_ - 1.0) / (_K * fs_ + 1.0)
                        dvn = (1.0 + _K) / ((_K * fs_ + 1.0) * (_K * fs_ + 1.0))
                    elif ratio <= _N:
                        fc = min(max(ratio, 1.0), _N)
                        d2 = (_N - 1.0) - _EK * (fc - _N)
                        vn = (fc - 1.0) / d2
                        dvn = (d2 + _EK * (fc - 1.0)) / (d2 * d2)
                    else:
                        vn = 1.0 + _SLOPE * (ratio - _N)
                        dvn = _SLOPE
                    dnum = -kse + dbe / lo
                    dden = (act[m, b] * fm * dfl + dpe) / lo
                    dratio = (dnum * den - num * dden) / (den * den)
                    scale = v_max[m, b] * lo
                    f_se[m, b] = fse
                    v_ce[m, b] = vn * scale
                    dv_dl[m, b] = dvn * dratio * scale
                    f_l[m, b] = fl
                tq[n_mp] = 0.0
                for p in range(n_mp):
                    tq[p] = arms[p, b] * f_se[pair_muscle[p], b]
                for c in range(10):
                    acc = tq[coord_pairs[c, 0]]
                    for k in range(1, coord_pairs.shape[1]):
                        acc += tq[coord_pairs[c, k]]
                    mmom[c, b] = acc
            else:
                for m in range(n_mus):
                    l_mtu[m, b] = 0.0
                    f_se[m, b] = 0.0
                    v_ce[m, b] = 0.0
                    dv_dl[m, b] = 0.0
                    f_l[m, b] = 0.0
                    l_norm[m, b] = 0.0
                for p in range(n_mp):
                    arms[p, b] = 0.0
                for c in range(10):
                    mmom[c, b] = 0.0

            # --- contact spheres (skeleton.foot_point_kinematics, contact.normal_force/friction_force) ---
            cp_, sp_ = cs[0], sn[0]
            for leg in range(2):
                cfe, sfe = cs[2 + 3 * leg], sn[2 + 3 * leg]
                cti, sti = cs[3 + 3 * leg], sn[3 + 3 * leg]
                cfo, sfo = cs[4 + 3 * leg], sn[4 + 3 * leg]
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
                for s in range(2):
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
                    if not use_contact:
                        fn[leg, s, b] = 0.0
                        ft[leg, s, b] = 0.0
                        cn[leg, s, b] = 0.0
                        ct[leg, s, b] = 0.0
                        anchor[leg, s, b] = x
                        mode[leg, s, b] = 0.0
                        continue
                    pen = radius[leg, s, b] - y
                    factor = 1.0 - vy / v_n[b]
                    if pen > 0.0 and factor > 0.0:
                        fnv = k_n[b] * pen * factor
                        cnv = k_n[b] * pen / v_n[b]
                    else:
                        fnv = 0.0
                        cnv = 0.0
                    fn[leg, s, b] = fnv
                    cn[leg, s, b] = cnv
                    if regularized:
                        root = np.sqrt(vx * vx + v_reg[b] * v_reg[b])
                        ft[leg, s, b] = -mu_slide[b] * fnv * vx / root
                        ct[leg, s, b] = mu_slide[b] * fnv * v_reg[b] * v_reg[b] / (root * root * root)
                        anchor[leg, s, b] = x
                        mode[leg, s, b] = MODE_STICK if fnv > 0.0 else MODE_AIR
                        continue
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
                    if starts:
                        direction = 1.0 if vx >= 0.0 else -1.0
                    else:
                        direction = slip_dir
                    sticking = loaded and not slipping
                    if sticking:
                        ft[leg, s, b] = f_stick
                        ct[leg, s, b] = c_stick
                    elif slipping:
                        ft[leg, s, b] = -direction * mu_slide[b] * fnv
                        ct[leg, s, b] = 0.0
                    else:
                        ft[leg, s, b] = 0.0
                        ct[leg, s, b] = 0.0
                    anchor[leg, s, b] = anc
                    if not loaded:
                        mode[leg, s, b] = MODE_AIR
                    elif slipping:
                        mode[leg, s, b] = MODE_SLIP_FWD if direction > 0.0 else MODE_SLIP_BWD
                    else:
                        mode[leg, s, b] = MODE_STICK

            # --- joint limits (joint_limits.limit_torques), rows 3..9 ---
            for c in range(10):
                lim_m[c, b] = 0.0
                lim_d[c, b] = 0.0
            if use_limits:
                for i in range(7):
                    c = 3 + i
                    pen_lo = lim_lo[i, b] - q[c, b]
                    pen_hi = q[c, b] - lim_hi[i, b]
                    f_lo = 1.0 - qdot[c, b] / lim_w[b]
                    f_hi = 1.0 + qdot[c, b] / lim_w[b]
                    t_lo = lim_k[b] * pen_lo * f_lo if (pen_lo > 0.0 and f_lo > 0.0) else 0.0
                    t_hi = lim_k[b] * pen_hi * f_hi if (pen_hi > 0.0 and f_hi > 0.0) else 0.0
                    d_lo = lim_k[b] * pen_lo / lim_w[b] if (pen_lo > 0.0 and f_lo > 0.0) else 0.0
                    d_hi = lim_k[b] * pen_hi / lim_w[b] if (pen_hi > 0.0 and f_hi > 0.0) else 0.0
                    lim_m[c, b] = t_lo - t_hi
                    lim_d[c, b] = d_lo + d_hi

    @njit(cache=True)
    def _accelerations_kernel(M_in, bias, mmom, lim_m, lim_d, torque, damping, jac, fn, ft, cn, ct, dt,
                              use_contact, parent_of, qdd):
        nb = M_in.shape[2]
        scratch = np.empty((nb, 220))
        for b in range(nb):
            row = scratch[b]
            tau = row[0:10]
            for c in range(10):
                tau[c] = (mmom[c, b] + lim_m[c, b]) + torque[c, b]
            Q = row[10:20]
            Q[0] = tau[0]
            Q[1] = tau[1]
            Q[2] = ((tau[2] - tau[3]) - tau[4]) - tau[7]
            Q[3] = tau[3]
            for leg in range(2):
                o = 4 + 3 * leg
                Q[o] = tau[o] - tau[o + 1]
                Q[o + 1] = tau[o + 1] - tau[o + 2]
                Q[o + 2] = tau[o + 2]
            gen = row[20:28].reshape((2, 4))
            for leg in range(2):
                for k in range(4):
                    gen[leg, k] = ((jac[0, leg, 0, k, b] * ft[leg, 0, b] + jac[1, leg, 0, k, b] * fn[leg, 0, b])
                                   + (jac[0, leg, 1, k, b] * ft[leg, 1, b] + jac[1, leg, 1, k, b] * fn[leg, 1, b]))
            Q[0] += (ft[0, 0, b] + ft[1, 0, b]) + (ft[0, 1, b] + ft[1, 1, b])
            Q[1] += (fn[0, 0, b] + fn[1, 0, b]) + (fn[0, 1, b] + fn[1, 1, b])
            Q[2] += gen[0, 0] + gen[1, 0]
            for k in range(3):
                Q[4 + k] += gen[0, 1 + k]
                Q[7 + k] += gen[1, 1 + k]
            A = row[28:128].reshape((10, 10))
            for i in range(10):
                for j in range(10):
                    A[i, j] = M_in[i, j, b]
            if dt > 0.0:
                for j in range(10):
                    d = (lim_d[j, b] + damping[j, b]) * dt
                    p = parent_of[j]
                    A[j, j] += d
                    if p >= 0:
                        A[p, p] += d
                        A[j, p] -= d
                        A[p, j] -= d
                if use_contact:
                    D = row[128:200].reshape((2, 6, 6))
                    for leg in range(2):
                        D[leg, 0, 0] = ct[leg, 0, b] + ct[leg, 1, b]
                        D[leg, 1, 1] = cn[leg, 0, b] + cn[leg, 1, b]
                        D[leg, 0, 1] = 0.0
                        D[leg, 1, 0] = 0.0
                        for i in range(4):
                            wx0 = ct[leg, 0, b] * jac[0, leg, 0, i, b]
                            wx1 = ct[leg, 1, b] * jac[0, leg, 1, i, b]
                            wy0 = cn[leg, 0, b] * jac[1, leg, 0, i, b]
                            wy1 = cn[leg, 1, b] * jac[1, leg, 1, i, b]
                            D[leg, 2 + i, 0] = wx0 + wx1
                            D[leg, 0, 2 + i] = wx0 + wx1
                            D[leg, 2 + i, 1] = wy0 + wy1
                            D[leg, 1, 2 + i] = wy0 + wy1
                            for k in range(4):
                                D[leg, 2 + i, 2 + k] = ((wx0 * jac[0, leg, 0, k, b] + wy0 * jac[1, leg, 0, k, b])
                                                        + (wx1 * jac[0, leg, 1, k, b] + wy1 * jac[1, leg, 1, k, b]))
                        for i in range(6):
                            for k in range(6):
                                D[leg, i, k] *= dt
                    for i in range(3):
                        for k in range(3):
                            A[i, k] += D[0, i, k] + D[1, i, k]
                    for leg in range(2):
                        o = 4 + 3 * leg
                        for i in range(3):
                            for k in range(3):
                                A[o + i, o + k] += D[leg, 3 + i, 3 + k]
                                A[o + i, k] += D[leg, 3 + i, k]
                                A[i, o + k] += D[leg, i, 3 + k]
            # dense LDL^T solve of A x = bias + Q (A symmetric positive definite)
            rhs = row[200:210]
            for i in range(10):
                rhs[i] = bias[i, b] + Q[i]
            _ldl_solve_inplace(A, rhs, row[210:220])
            x = rhs
            # rel_from_abs
            qdd[0, b] = x[0]
            qdd[1, b] = x[1]
            qdd[2, b] = x[2]
            qdd[3, b] = x[3] - x[2]
            for leg in range(2):
                o = 4 + 3 * leg
                qdd[o, b] = x[o] - x[2]
                qdd[o + 1, b] = x[o + 1] - x[o]
                qdd[o + 2, b] = x[o + 2] - x[o + 1]


def evaluate_forces(model: Model, q, qdot, act, lce, anchor, mode):
    """Compiled ``dynamics.evaluate_forces`` (same arguments, same ``ForceState``)."""
    from ..dynamics import ForceState

    require()
    nb = q.shape[1]
    sk, pp, mp, cp, lim, opt = model.skeleton, model.paths, model.muscles, model.contact, model.limits, model.options
    n_mus, n_pair = pp.l_ref.shape[0], pp.arm_cos.shape[0]
    e = np.empty
    psi, psidot, M, bias = e((10, nb)), e((10, nb)), e((10, 10, nb)), e((10, nb))
    l_mtu, arms, f_se, v_ce, dv_dl, f_l, l_norm = (e((n_mus, nb)), e((n_pair, nb)), e((n_mus, nb)), e((n_mus, nb)),
                                                   e((n_mus, nb)), e((n_mus, nb)), e((n_mus, nb)))
    mmom = e((10, nb))
    pos, vel, jac = e((2, 2, 2, nb)), e((2, 2, 2, nb)), e((2, 2, 2, 4, nb))
    fn, ft, cn, ct, anc, md = (e((2, 2, nb)) for _ in range(6))
    lim_m, lim_d = e((10, nb)), e((10, nb))
    _forces_kernel(q, qdot, act, lce, anchor, mode,
                   sk.mass_total, sk.w, sk.A_pair, sk.B_pair, sk.A_diag, sk.leg_links, sk.gravity, PAIR_J, PAIR_K,
                   BIAS_TERMS, PAIR_COORD_INDEX, pp.arm_cos, pp.arm_sin, pp.arm_const, pp.length_const, pp.l_ref,
                   MUSCLE_PAIRS, COORD_PAIRS, PAIR_MUSCLE_INDEX,
                   mp.f_max, mp.l_opt, mp.l_slack, mp.v_max, mp.ref_strain, mp.pe_factor,
                   cp.sphere_x, cp.sphere_y, cp.radius, cp.normal_stiffness, cp.normal_damping_velocity,
                   cp.tangential_stiffness, cp.tangential_damping_velocity, cp.stick_friction, cp.slide_friction,
                   cp.stick_velocity, cp.regularization_velocity,
                   lim.lower, lim.upper, lim.stiffness, lim.w_max,
                   bool(opt.muscles), bool(opt.contact), bool(opt.joint_limits), opt.friction == "regularized",
                   psi, psidot, M, bias, l_mtu, arms, f_se, v_ce, dv_dl, f_l, l_norm, mmom,
                   pos, vel, jac, fn, ft, cn, ct, anc, md, lim_m, lim_d)
    return ForceState(q, qdot, psi, psidot, M, bias, l_mtu, arms, f_se, v_ce, dv_dl, f_l, l_norm, mmom,
                      pos, vel, jac, fn, ft, cn, ct, anc, md, lim_m, lim_d)


def accelerations(model: Model, fs, actuator_torque=None, actuator_damping=None, dt: float = 0.0):
    """Compiled ``dynamics.accelerations`` (same arguments and result)."""
    require()
    nb = fs.q.shape[1]
    zeros = np.zeros((10, nb))
    torque = zeros if actuator_torque is None else np.ascontiguousarray(np.broadcast_to(actuator_torque, (10, nb)))
    damping = zeros if actuator_damping is None else np.ascontiguousarray(np.broadcast_to(actuator_damping, (10, nb)))
    qdd = np.empty((10, nb))
    _accelerations_kernel(fs.mass_matrix, fs.bias, fs.muscle_moment, fs.limit_moment, fs.limit_damping, torque,
                          damping, fs.contact_jac, fs.fn, fs.ft, fs.cn, fs.ct, float(dt), bool(model.options.contact),
                          _PARENT_OF, qdd)
    return qdd
