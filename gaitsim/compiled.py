"""Optional compiled backend: force evaluation, equations of motion and reflex law as numba kernels.

numpy (``dynamics.evaluate_forces``, ``dynamics.accelerations``, ``ReflexController``) is the
reference and the default. This module computes the same quantities walker by walker in
compiled loops, following the numpy expressions term by term and in the same summation order;
the tests check agreement to 1e-9 (the forces agree bit for bit on the states tested). The
one deliberate difference: the equations of motion are solved with a dense LDL^T of the
10x10 matrix instead of the block-tree elimination (same system, rounding-level differences).

Where it pays: small batches, where numpy's per-call overhead dominates (a single walker runs
several times faster). At large batches it is about as fast as numpy: the scalar loop is
bound by division and exp/sin/cos latency, while numpy applies SIMD across walkers
(benchmarks/bench_walking.py measures both). The kernels are serial; use worker processes
for several cores (threads inside each call lost badly whenever another process held a core).

Install the extra (``pip install "gaitsim[fast]"``) and select it with
``simulate(..., solver=SemiImplicitEuler(backend="numba"))`` and
``ReflexController(..., backend="numba")`` (or ``tuned.walker_from_solutions(..., backend=)``).
The first call compiles the kernels (about 30 s; cached on disk afterwards).

All arrays are batch-last, as in the numpy code; see ``dynamics.ForceState`` for shapes and units.
"""

from __future__ import annotations

import numpy as np

from . import muscles as mus
from .contact import MODE_AIR, MODE_SLIP_BWD, MODE_SLIP_FWD, MODE_STICK
from .dynamics import _PARENT_OF as _PARENT_TUPLE
from .names import COORDINATES, LEG_MUSCLES, N_MUSCLES
from .model import COORD_PAIRS, MUSCLE_PAIRS, PAIR_COORD_INDEX, PAIR_MUSCLE_INDEX, Model
from .skeleton import PAIR_J, PAIR_K, _BIAS_TERMS

try:  # numba is an optional dependency (extra "fast")
    import numba
    from numba import njit
except ImportError:  # pragma: no cover - exercised only without the extra
    numba = None

_PARENT_OF = np.array(_PARENT_TUPLE, dtype=np.intp)
_FL_W = mus.FL_WIDTH
_FL_C = mus.FL_C
_N = mus.FV_N
_K = mus.FV_K
_EK = mus.FV_ECC_SHAPE * mus.FV_K
_SLOPE = mus._SLOPE_SWITCH
_EPS = mus._DEN_EPS


def available() -> bool:
    """True when numba is installed."""
    return numba is not None


def require() -> None:
    if numba is None:
        raise ImportError('the numba backend needs numba: pip install "gaitsim[fast]" (or pip install numba)')


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
    from .dynamics import ForceState

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
                   _BIAS_TERMS, PAIR_COORD_INDEX, pp.arm_cos, pp.arm_sin, pp.arm_const, pp.length_const, pp.l_ref,
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


# --- the reflex controller (reflex.ReflexController.__call__) ------------------------------------

#: gain order of the kernel's unpacking below; must equal ReflexGains.names() (checked at import)
_KERNEL_GAIN_ORDER = (
    "S0", "G_SOL", "G_TA", "l_off_TA", "G_SOLTA", "G_GAS", "S0_VAS", "G_VAS", "k_phi", "knee_off", "k_bw", "dS",
    "kp", "kd", "S0_BAL", "theta_ref", "G_HFL", "l_off_HFL", "k_lean", "G_HAMHFL", "l_off_HAM", "G_HAM", "G_GLU",
    "G_RF", "calf_stretch_gain", "l_off_CS", "calf_stretch_velocity_gain", "S0_L", "kp_L", "kd_L", "kq_L",
    "lumbar_ref", "k_trunk", "G_sway", "sway_threshold", "transfer_load", "stance_on", "stance_off",
)


#: signal rows the kernel writes (by number); must equal ReflexController.SIGNALS (checked at import)
_KERNEL_SIGNAL_ORDER = (
    "theta", "theta_dot", "lumbar", "lumbar_dot", "load_r", "load_l", "sway_r", "sway_l", "l_HFL_r", "l_HFL_l",
    "l_HAM_r", "l_HAM_l", "F_HAM_r", "F_HAM_l", "F_GLU_r", "F_GLU_l", "F_VAS_r", "F_VAS_l", "knee_r", "knee_l",
    "knee_dot_r", "knee_dot_l", "F_SOL_r", "F_SOL_l", "F_GAS_r", "F_GAS_l", "l_TA_r", "l_TA_l", "l_SOL_r", "l_SOL_l",
    "l_GAS_r", "l_GAS_l", "v_SOL_r", "v_SOL_l", "v_GAS_r", "v_GAS_l",
)
#: leg-muscle positions within a leg block (names.LEG_MUSCLES) and the block length
_NLM = len(LEG_MUSCLES)
_PSOAS, _ILIACUS, _GLU, _HAM, _RF, _VAS, _GAS, _SOL, _TA = (
    LEG_MUSCLES.index(m) for m in ("psoas", "iliacus", "glut_max", "hamstrings", "rect_fem", "vasti", "gastroc",
                                   "soleus", "tib_ant"))
_KNEE_R, _LUMBAR_ROW = COORDINATES.index("knee_angle_r"), COORDINATES.index("lumbar")
_KNEE_STRIDE = COORDINATES.index("knee_angle_l") - _KNEE_R


def _check_gain_order():
    from .reflex import ReflexController, ReflexGains

    if ReflexGains.names() != _KERNEL_GAIN_ORDER:
        raise RuntimeError("gaitsim.compiled: _KERNEL_GAIN_ORDER no longer matches ReflexGains; update the kernel")
    if tuple(n for n, _ in ReflexController.SIGNALS) != _KERNEL_SIGNAL_ORDER:
        raise RuntimeError("gaitsim.compiled: _KERNEL_SIGNAL_ORDER no longer matches ReflexController.SIGNALS")


_check_gain_order()

if numba is not None:
    from .control import MIN_EXCITATION as _MIN_EXC

    @njit(cache=True, inline="always")
    def _p(x):
        return max(x, 0.0)

    @njit(cache=True)
    def _reflex_kernel(step, trunk_initiated, gains, force, l_norm, v_ce, fn, sphere_pos, psi, psidot, q, qdot,
                       f_max, v_scale, bw, delay_steps, n_slots, n_line, memory, exc):
        nb = q.shape[1]
        n_sig = delay_steps.shape[0]
        scratch = np.empty((nb, 2 * n_sig))
        for b in range(nb):
            (S0, G_SOL, G_TA, l_off_TA, G_SOLTA, G_GAS, S0_VAS, G_VAS, k_phi, knee_off, k_bw, dS,
             kp, kd, S0_BAL, theta_ref, G_HFL, l_off_HFL, k_lean, G_HAMHFL, l_off_HAM, G_HAM, G_GLU,
             G_RF, G_CS, l_off_CS, G_CSV, S0_L, kp_L, kd_L, kq_L,
             lumbar_ref, k_trunk, G_sway, sway_threshold, transfer_load, stance_on, stance_off) = gains[b]
            sig = scratch[b, :n_sig]
            d = scratch[b, n_sig:]
            # --- sensors (ReflexController._signals), rows in SIGNALS order ---
            sig[0] = -psi[3, b]
            sig[1] = -psidot[3, b]
            sig[2] = q[_LUMBAR_ROW, b]
            sig[3] = qdot[_LUMBAR_ROW, b]
            for leg in range(2):
                sig[4 + leg] = (fn[leg, 0, b] + fn[leg, 1, b]) / bw[b]
                foot_x = 0.5 * (sphere_pos[0, leg, 0, b] + sphere_pos[0, leg, 1, b])
                sig[6 + leg] = psi[0, b] - foot_x
                o = _NLM * leg  # this leg's block of muscles
                sig[8 + leg] = l_norm[o + _PSOAS, b]
                sig[10 + leg] = l_norm[o + _HAM, b]
                sig[12 + leg] = force[o + _HAM, b] / f_max[o + _HAM, b]
                sig[14 + leg] = force[o + _GLU, b] / f_max[o + _GLU, b]
                sig[16 + leg] = force[o + _VAS, b] / f_max[o + _VAS, b]
                sig[18 + leg] = q[_KNEE_R + _KNEE_STRIDE * leg, b]
                sig[20 + leg] = qdot[_KNEE_R + _KNEE_STRIDE * leg, b]
                sig[22 + leg] = force[o + _SOL, b] / f_max[o + _SOL, b]
                sig[24 + leg] = force[o + _GAS, b] / f_max[o + _GAS, b]
                sig[26 + leg] = l_norm[o + _TA, b]
                sig[28 + leg] = l_norm[o + _SOL, b]
                sig[30 + leg] = l_norm[o + _GAS, b]
                sig[32 + leg] = v_ce[o + _SOL, b] / v_scale[o + _SOL, b]
                sig[34 + leg] = v_ce[o + _GAS, b] / v_scale[o + _GAS, b]
            # --- delay line (control.DelayLine.push): read step - steps[i], then write this step ---
            slot = step % n_slots
            for i in range(n_sig):
                d[i] = memory[((step - delay_steps[i]) % n_slots) * n_sig + i, b]
            for i in range(n_sig):
                memory[slot * n_sig + i, b] = sig[i]
            theta, theta_dot = d[0], d[1]
            # --- phase transitions, both legs first (each needs the other's touchdown) ---
            ph0 = n_line  # rows: phase r, l, trailing r, l, theta_TO r, l
            old_phase = (memory[ph0, b], memory[ph0 + 1, b])
            touchdown = (old_phase[0] < 1.0 and d[4] > stance_on, old_phase[1] < 1.0 and d[5] > stance_on)
            for leg in range(2):
                c = 1 - leg
                phase = old_phase[leg]
                trailing = memory[ph0 + 2 + leg, b]
                theta_to = memory[ph0 + 4 + leg, b]
                load, load_c, sway = d[4 + leg], d[4 + c], d[6 + leg]
                in_stance = phase >= 1.0
                liftoff = in_stance and load < stance_off
                new_phase = 1.0 if touchdown[leg] else (0.0 if liftoff else phase)
                if liftoff or not new_phase >= 1.0:
                    new_trailing = 0.0
                elif touchdown[c] and in_stance:
                    new_trailing = 1.0
                else:
                    new_trailing = trailing
                new_theta_to = theta if liftoff else theta_to
                if trunk_initiated and new_phase == 1.0 and sway > sway_threshold and load_c > transfer_load:
                    new_phase = 2.0
                stance = new_phase >= 1.0
                pre = new_phase == 2.0
                ds_f = 1.0 if (new_trailing > 0.0 and stance and load_c > stance_on) else 0.0
                F_SOL, F_GAS, F_VAS = d[22 + leg], d[24 + leg], d[16 + leg]
                F_HAM, F_GLU = d[12 + leg], d[14 + leg]
                l_TA, l_HFL, l_HAM = d[26 + leg], d[8 + leg], d[10 + leg]
                l_SOL, l_GAS, v_SOL, v_GAS = d[28 + leg], d[30 + leg], d[32 + leg], d[34 + leg]
                knee, knee_dot = d[18 + leg], d[20 + leg]
                release = 0.0 if pre else 1.0
                # stance laws
                calf = G_CS * _p(l_SOL - l_off_CS) + G_CSV * _p(v_SOL)
                calf_g = G_CS * _p(l_GAS - l_off_CS) + G_CSV * _p(v_GAS)
                st_SOL = S0 + release * G_SOL * F_SOL + calf
                st_GAS = S0 + release * G_GAS * F_GAS + calf_g
                st_TA = S0 + G_TA * _p(l_TA - l_off_TA) - G_SOLTA * F_SOL
                knee_term = knee - knee_off if (knee > knee_off and knee_dot > 0.0) else 0.0
                st_VAS = S0_VAS + release * G_VAS * F_VAS - k_phi * knee_term - k_bw * load_c * ds_f
                u = kp * (theta - theta_ref) + kd * theta_dot
                scale = k_bw * max(load, 0.0)
                st_GLU = S0_BAL + _p(u) * scale - dS * ds_f
                st_HAM = S0_BAL + _p(u) * scale
                st_HFL = S0_BAL + _p(-u) * scale + dS * ds_f
                # swing laws
                if trunk_initiated:
                    lean_drive = k_trunk * _p(theta - theta_ref)
                else:
                    lean_drive = k_lean * (theta_to - theta_ref)
                sw_HFL = S0 + lean_drive + G_HFL * _p(l_HFL - l_off_HFL) - G_HAMHFL * _p(l_HAM - l_off_HAM)
                sw_HAM = S0 + G_HAM * F_HAM
                sw_GLU = S0 + G_GLU * F_GLU
                sw_TA = S0 + G_TA * _p(l_TA - l_off_TA)
                sw_RF = S0 + G_RF * _p(-knee_dot)
                if trunk_initiated and pre:
                    pre_drive = k_trunk * _p(theta - theta_ref) + G_sway * _p(sway - sway_threshold)
                    st_HFL = st_HFL + pre_drive + G_HFL * _p(l_HFL - l_off_HFL)
                o = _NLM * leg
                hfl = st_HFL if stance else sw_HFL
                exc[o + _PSOAS, b] = hfl
                exc[o + _ILIACUS, b] = hfl
                exc[o + _GLU, b] = st_GLU if stance else sw_GLU
                exc[o + _HAM, b] = st_HAM if stance else sw_HAM
                exc[o + _RF, b] = S0 if stance else sw_RF
                exc[o + _VAS, b] = st_VAS if stance else S0
                exc[o + _GAS, b] = st_GAS if stance else S0
                exc[o + _SOL, b] = st_SOL if stance else S0
                exc[o + _TA, b] = st_TA if stance else sw_TA
                memory[ph0 + leg, b] = new_phase
                memory[ph0 + 2 + leg, b] = new_trailing
                memory[ph0 + 4 + leg, b] = new_theta_to
            u_l = kp_L * (theta - theta_ref) + kd_L * theta_dot + kq_L * (-d[2] - lumbar_ref)
            exc[N_MUSCLES - 2, b] = S0_L + _p(u_l)  # erector spinae
            exc[N_MUSCLES - 1, b] = S0_L + _p(-u_l)  # abdominals
            for m in range(N_MUSCLES):
                exc[m, b] = min(max(exc[m, b], _MIN_EXC), 1.0)


def reflex_excitation(ctrl, t: float, fs, memory) -> np.ndarray:
    """Compiled ``ReflexController.__call__`` (excitation (n_muscles, B); ``memory`` updated in place)."""
    require()
    nb = fs.q.shape[1]
    if getattr(ctrl, "_gain_table", None) is None or ctrl._gain_table.shape[0] != nb:
        ctrl._gain_table = np.ascontiguousarray(np.stack([ctrl.g[n] for n in _KERNEL_GAIN_ORDER], axis=1))
        ctrl._v_scale = np.ascontiguousarray(ctrl._vmax)
    exc = np.empty((fs.force.shape[0], nb))
    line = ctrl.line
    _reflex_kernel(line.step_index(t), ctrl.mode == "trunk_initiated", ctrl._gain_table, fs.force,
                   fs.fiber_length_norm, fs.fiber_velocity, fs.fn, fs.sphere_pos, fs.psi, fs.psidot, fs.q, fs.qdot,
                   ctrl._fmax, ctrl._v_scale, ctrl._bw, line.steps.astype(np.int64), line.n_slots, line.size,
                   memory, exc)
    return exc


# --- the state update of SemiImplicitEuler.step (steps 3-6 of integrate's docstring) ---------------

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
    from .control import MIN_EXCITATION

    new = np.empty_like(x)
    exc = np.ascontiguousarray(np.broadcast_to(np.asarray(excitation, dtype=float), fs.force.shape))
    _update_kernel(x, qdd, exc, fs.fiber_velocity, fs.dv_dl, fs.anchor, fs.mode,
                   model.muscles.tau_act, float(dt), MIN_EXCITATION, blocks["q"].start, blocks["qdot"].start,
                   blocks["activation"].start, blocks["fiber_length"].start, blocks["anchor"].start,
                   blocks["mode"].start, new)
    return new
