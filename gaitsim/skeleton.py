"""Planar multibody skeleton: 8 rigid bodies, 10 degrees of freedom, batched.

Formulation
-----------
Internally the dynamics are written in *absolute* coordinates
``psi = (x, y, theta_0 .. theta_7)``: the pelvis origin position and the absolute
angle of every body (order of ``names.BODIES``). The OpenSim coordinates ``q``
(``names.COORDINATES``) are a constant linear map ``psi = T q``: each body's
absolute angle is the pelvis tilt plus the joint angles along its chain.

In absolute coordinates the kinetic energy of a planar tree has a closed form.
With ``u_ij`` the constant vector, in frame j, from body j's origin towards body
i (the joint of j's child on the path to i, or i's own centre of mass if j = i),

* ``M_xx = M_yy = m_total``,
* ``M_(x,y),j = R(theta_j) E w_j`` with ``w_j = sum_{i in subtree(j)} m_i u_ij``
  (E = rotation by +90 degrees),
* ``M_jk = A_jk cos(theta_k - theta_j) + B_jk sin(theta_k - theta_j)`` with constant
  per-walker ``A`` (symmetric) and ``B`` (antisymmetric), non-zero only when one of
  j, k is an ancestor of the other,

and the velocity-product (Coriolis/centrifugal) forces are
``h_j = sum_k dM_jk/dtheta_k * thetadot_k^2`` and
``h_(x,y) = -sum_j R(theta_j) w_j thetadot_j^2``. Gravity gives
``Q_y = -m_total g`` and ``Q_j = -g [R(theta_j) E w_j]_y``.

The mass matrix has the sparsity of the tree: the legs couple only with the root
(x, y, pelvis angle), never with each other or with the torso. ``solve_tree``
eliminates the two 3x3 leg blocks and the 1x1 torso block onto the 3x3 root
(a block-tree LDL^T, O(n) in the number of bodies) instead of a dense 10x10 solve.

All arrays here are *batch-last*: ``(..., B)``; ``model.Model`` keeps them that way
so that every numpy call works on contiguous rows of B walkers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._fixed import gather_sum, padded_index, seq_sum
from .names import BODIES, N_COORDINATES
from .trig import sin_cos

#: parent body index of each body (pelvis is the root)
PARENT = (-1, 0, 0, 2, 3, 0, 5, 6)
#: index into ``anthropometry.JOINTS`` of the joint connecting each body to its parent
JOINT_OF_BODY = (-1, 0, 1, 2, 3, 4, 5, 6)
N_ANGLES = len(BODIES)

#: ``psi = T q``: absolute coordinates from OpenSim coordinates.
T_ABS_FROM_REL = np.zeros((N_COORDINATES, N_COORDINATES))
T_ABS_FROM_REL[0, 0] = T_ABS_FROM_REL[1, 1] = 1.0
for _body in range(N_ANGLES):
    _k = _body
    while _k != -1:
        T_ABS_FROM_REL[2 + _body, 2 + _k] = 1.0
        _k = PARENT[_k]
T_REL_FROM_ABS = np.linalg.inv(T_ABS_FROM_REL).round(12)


def _ancestors(body: int) -> list[int]:
    out = []
    k = PARENT[body]
    while k != -1:
        out.append(k)
        k = PARENT[k]
    return out


def _subtree(body: int) -> list[int]:
    return [i for i in range(N_ANGLES) if i == body or body in _ancestors(i)]


def _child_towards(ancestor: int, body: int) -> int:
    """The child of ``ancestor`` on the path down to ``body``."""
    k = body
    while PARENT[k] != ancestor:
        k = PARENT[k]
    return k


#: the angle pairs (j ancestor of k) whose mass-matrix entries can be non-zero; every other
#: off-diagonal entry (the two legs with each other, torso with a leg) is zero by the tree
PAIR_J, PAIR_K = (np.array(v, dtype=np.intp) for v in zip(*[(j, k) for k in range(N_ANGLES) for j in _ancestors(k)]))
_N_PAIRS = len(PAIR_J)
#: per angle a, the velocity-product terms that act on it: pairs it heads (term p) and pairs it
#: ends (term n_pairs + p); an index table for the fixed-order ``gather_sum``
BIAS_TERMS = padded_index([list(np.flatnonzero(PAIR_J == a)) + list(_N_PAIRS + np.flatnonzero(PAIR_K == a))
                            for a in range(N_ANGLES)], pad=2 * _N_PAIRS)


@dataclass(frozen=True)
class SkeletonConstants:
    """Per-walker constants of the closed-form dynamics (batch-last arrays).

    mass_total: (B,) kg.  A, B: (8, 8, B) kg m^2.  w: (2, 8, B) kg m (x and y rows).
    joint: (2, 7, B) m, joint centres in parent frames (``anthropometry.JOINTS`` order).
    leg_links: (3, 2, 2, B) m: hip (in pelvis), knee (in femur), ankle (in tibia) offsets,
    as [link, xy, leg r/l, B].
    gravity: (B,) m/s^2.
    """

    mass_total: np.ndarray
    A: np.ndarray
    B: np.ndarray
    w: np.ndarray
    joint: np.ndarray
    leg_links: np.ndarray
    gravity: np.ndarray
    A_pair: np.ndarray  # A and B at (PAIR_J, PAIR_K), (n_pairs, B); A_diag (8, B): the diagonal of A
    B_pair: np.ndarray
    A_diag: np.ndarray


def skeleton_constants(mass, com_x, com_y, inertia, joint_x, joint_y, gravity) -> SkeletonConstants:
    """Build the constants from batch-first body parameters.

    mass, com_x, com_y, inertia: (B, 8) in kg, m, m, kg m^2 (CoM in the body frame).
    joint_x, joint_y: (B, 7) joint centres in the parent frame (m). gravity: (B,) m/s^2.
    Runs once per model (Python loops here are over bodies, at build time only).
    """
    m = np.asarray(mass, float).T  # (8, B)
    c = np.stack([np.asarray(com_x, float).T, np.asarray(com_y, float).T])  # (2, 8, B)
    inertia = np.asarray(inertia, float).T
    jl = np.stack([np.asarray(joint_x, float).T, np.asarray(joint_y, float).T])  # (2, 7, B)
    nb = m.shape[1]

    def joint_vec(body: int) -> np.ndarray:
        return jl[:, JOINT_OF_BODY[body]]

    sub_mass = np.stack([seq_sum(m[_subtree(j)]) for j in range(N_ANGLES)])  # (8, B)
    w = np.zeros((2, N_ANGLES, nb))
    A = np.zeros((N_ANGLES, N_ANGLES, nb))
    Bm = np.zeros((N_ANGLES, N_ANGLES, nb))
    for j in range(N_ANGLES):
        children = [k for k in range(N_ANGLES) if PARENT[k] == j]
        w[:, j] = m[j] * c[:, j] + sum((sub_mass[k] * joint_vec(k) for k in children), np.zeros((2, nb)))
        A[j, j] = inertia[j] + m[j] * seq_sum(c[:, j] ** 2) + sum(
            (sub_mass[k] * seq_sum(joint_vec(k) ** 2) for k in children), np.zeros(nb))
    for k in range(N_ANGLES):
        for j in _ancestors(k):
            cjk = joint_vec(_child_towards(j, k))
            A[j, k] = A[k, j] = cjk[0] * w[0, k] + cjk[1] * w[1, k]
            Bm[j, k] = cjk[1] * w[0, k] - cjk[0] * w[1, k]
            Bm[k, j] = -Bm[j, k]
    leg_links = np.stack([jl[:, [1, 4]], jl[:, [2, 5]], jl[:, [3, 6]]])  # (3, 2, 2, B)
    return SkeletonConstants(
        mass_total=seq_sum(m), A=A, B=Bm, w=w, joint=jl, leg_links=np.ascontiguousarray(leg_links),
        gravity=np.asarray(gravity, float).copy(), A_pair=A[PAIR_J, PAIR_K], B_pair=Bm[PAIR_J, PAIR_K],
        A_diag=A[np.arange(N_ANGLES), np.arange(N_ANGLES)],
    )


def abs_from_rel(q: np.ndarray) -> np.ndarray:
    """Absolute coordinates psi (10, B) from OpenSim coordinates q (10, B) (same as ``T_ABS_FROM_REL @ q``)."""
    psi = np.empty_like(q)
    psi[:3] = q[:3]
    psi[3] = q[2] + q[3]
    legs = np.cumsum(q[4:].reshape(2, 3, -1), axis=1)  # hip, hip+knee, hip+knee+ankle
    psi[4:] = (legs + q[2]).reshape(6, -1)
    return psi


def rel_from_abs(psi: np.ndarray) -> np.ndarray:
    """OpenSim coordinates (10, B) from absolute coordinates psi (10, B) (``T_REL_FROM_ABS @ psi``)."""
    q = np.empty_like(psi)
    q[:3] = psi[:3]
    q[3] = psi[3] - psi[2]
    legs = psi[4:].reshape(2, 3, -1)
    ql = q[4:].reshape(2, 3, -1)
    ql[:, 0] = legs[:, 0] - psi[2]
    ql[:, 1:] = legs[:, 1:] - legs[:, :-1]
    return q


def abs_forces_from_rel(tau: np.ndarray) -> np.ndarray:
    """Generalized forces on psi (10, B) equivalent to forces tau (10, B) on q (``T_REL_FROM_ABS.T @ tau``)."""
    out = np.empty_like(tau)
    out[:2] = tau[:2]
    out[2] = ((tau[2] - tau[3]) - tau[4]) - tau[7]
    out[3] = tau[3]
    t = tau[4:].reshape(2, 3, -1)
    o = out[4:].reshape(2, 3, -1)
    o[:, :2] = t[:, :2] - t[:, 1:]
    o[:, 2] = t[:, 2]
    return out


def mass_matrix_and_forces(sk: SkeletonConstants, psi: np.ndarray, psidot: np.ndarray):
    """Mass matrix and velocity/gravity forces in absolute coordinates.

    Returns ``M`` (10, 10, B) in kg / kg m / kg m^2 and ``f`` (10, B): gravity minus
    velocity-product forces (N, N m), so that ``M psi_ddot = f + Q_applied``.
    Also returns ``(cos, sin)`` of the 8 absolute angles for reuse.
    """
    th, thd = psi[2:], psidot[2:]
    sn, cs = sin_cos(th)  # gaitsim.trig: the compiled kernels compute the same numbers
    # only the tree's non-zero pairs (j ancestor of k); the rest of M stays zero
    cj, sj, ck, sk_ = cs[PAIR_J], sn[PAIR_J], cs[PAIR_K], sn[PAIR_K]
    cosd = cj * ck + sj * sk_  # cos(theta_k - theta_j)
    sind = cj * sk_ - sj * ck  # sin(theta_k - theta_j)
    nb = psi.shape[1]
    M = np.zeros((N_COORDINATES, N_COORDINATES, nb))
    M[0, 0] = M[1, 1] = sk.mass_total
    wx, wy = sk.w[0], sk.w[1]
    mx = -wx * sn - wy * cs  # d(CoM x)/d theta_j, mass-weighted
    my = wx * cs - wy * sn
    M[0, 2:] = M[2:, 0] = mx
    M[1, 2:] = M[2:, 1] = my
    diag = np.arange(2, N_COORDINATES)
    M[diag, diag] = sk.A_diag
    m_pair = sk.A_pair * cosd + sk.B_pair * sind
    M[2 + PAIR_J, 2 + PAIR_K] = m_pair
    M[2 + PAIR_K, 2 + PAIR_J] = m_pair
    thd2 = thd * thd
    # dM_jk/dtheta_k = B_jk cos - A_jk sin on a pair; dM_kj/dtheta_j is its negative (B antisymmetric)
    dM = sk.B_pair * cosd - sk.A_pair * sind
    f = np.empty((N_COORDINATES, nb))
    f[0] = seq_sum(my * thd2)  # -h_x = sum_j (w_x cos - w_y sin) thd^2
    f[1] = -seq_sum(mx * thd2) - sk.mass_total * sk.gravity
    terms = np.concatenate([-dM * thd2[PAIR_K], dM * thd2[PAIR_J]])  # on theta_j, then on theta_k
    f[2:] = gather_sum(terms, BIAS_TERMS) - sk.gravity * my
    return M, f, (cs, sn)


# --- block-tree solve -------------------------------------------------------------------------

_ROOT = slice(0, 3)
_TORSO = 3
_LEG_R = slice(4, 7)
_LEG_L = slice(7, 10)


def _ldl_solve(A: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve small SPD systems ``A x = rhs`` by an unrolled LDL^T.

    A: (..., n, n, B); rhs: (..., n, k, B). Loops run over the tiny matrix size n only.
    """
    n = A.shape[-2]
    L = [[None] * n for _ in range(n)]
    d = [None] * n
    for j in range(n):
        dj = A[..., j, j, :].copy()
        for k in range(j):
            dj -= L[j][k] * L[j][k] * d[k]
        d[j] = dj
        for i in range(j + 1, n):
            lij = A[..., i, j, :].copy()
            for k in range(j):
                lij -= L[i][k] * L[j][k] * d[k]
            L[i][j] = lij / dj
    y = [None] * n
    for i in range(n):
        yi = rhs[..., i, :, :].copy()
        for k in range(i):
            yi -= L[i][k][..., None, :] * y[k]
        y[i] = yi
    x = [None] * n
    for i in reversed(range(n)):
        xi = y[i] / d[i][..., None, :]
        for k in range(i + 1, n):
            xi -= L[k][i][..., None, :] * x[k]
        x[i] = xi
    return np.stack(x, axis=-3)


def solve_tree(M: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Solve ``M a = f`` for a mass matrix with the skeleton's tree sparsity.

    M: (10, 10, B) symmetric positive definite with zero leg-leg and leg-torso blocks.
    f: (10, B). Returns a: (10, B). The two legs are eliminated together as one
    (2, 3, 3, B) stack, the torso as a scalar, then the 3x3 root system is solved.
    """
    legs = np.stack([M[_LEG_R, _LEG_R], M[_LEG_L, _LEG_L]])  # (2, 3, 3, B)
    coup = np.stack([M[_LEG_R, _ROOT], M[_LEG_L, _ROOT]])  # (2, 3, 3, B): leg rows, root cols
    f_leg = np.stack([f[_LEG_R], f[_LEG_L]])  # (2, 3, B)
    rhs = np.concatenate([coup, f_leg[:, :, None, :]], axis=2)  # (2, 3, 4, B)
    X = _ldl_solve(legs, rhs)  # (2, 3, 4, B)
    m_t = M[_TORSO, _TORSO]
    c_t = M[_TORSO, _ROOT]  # (3, B)
    # Schur complement on the root: sum over legs l and leg rows i, in a fixed order
    cx = coup[:, :, :, None, :] * X[:, :, None, :, :]  # (l, i, r, s, B): coup[l,i,r] X[l,i,s]
    cx = seq_sum(seq_sum(cx, axis=1), axis=0)  # (r, s, B) with s = 3 root columns + rhs
    S = M[_ROOT, _ROOT] - cx[:, :3] - c_t[:, None] * c_t[None] / m_t
    g = f[_ROOT] - cx[:, 3] - c_t * (f[_TORSO] / m_t)
    a_root = _ldl_solve(S, g[:, None, :])[:, 0]  # (3, B)
    a_legs = X[:, :, 3] - seq_sum(X[:, :, :3] * a_root[None, None], axis=2)  # (2, 3, B)
    a = np.empty_like(f)
    a[_ROOT] = a_root
    a[_TORSO] = (f[_TORSO] - seq_sum(c_t * a_root)) / m_t
    a[_LEG_R] = a_legs[0]
    a[_LEG_L] = a_legs[1]
    return a


# --- point kinematics on the feet --------------------------------------------------------------


def foot_point_kinematics(sk: SkeletonConstants, psi, psidot, cs, sn, point_x, point_y):
    """Positions, velocities and Jacobians of points fixed on the feet.

    point_x, point_y: (2, P, B) point coordinates in each foot frame (legs r, l; P points per foot).
    Returns ``pos`` (2, 2, P, B) [xy, leg, point], ``vel`` same shape, and
    ``jac`` (2, 2, P, 4, B): d(point xy)/d(theta of pelvis, femur, tibia, foot) of that leg
    (the x and y columns of the Jacobian are the identity and are implied).
    """
    hip, knee, ankle = sk.leg_links  # each (2 xy, 2 legs, B)
    c_leg = cs[2:].reshape(2, 3, -1)  # (legs, femur/tibia/foot, B)
    s_leg = sn[2:].reshape(2, 3, -1)
    c_p, s_p = cs[0], sn[0]
    nb = psi.shape[1]
    n_pt = point_x.shape[1]
    # rotated link vectors R(theta) o: hip (pelvis angle), knee (femur), ankle (tibia); (legs, B)
    hx, hy = c_p * hip[0] - s_p * hip[1], s_p * hip[0] + c_p * hip[1]
    kx, ky = c_leg[:, 0] * knee[0] - s_leg[:, 0] * knee[1], s_leg[:, 0] * knee[0] + c_leg[:, 0] * knee[1]
    ax, ay = c_leg[:, 1] * ankle[0] - s_leg[:, 1] * ankle[1], s_leg[:, 1] * ankle[0] + c_leg[:, 1] * ankle[1]
    cf, sf = c_leg[:, 2, None], s_leg[:, 2, None]
    px, py = cf * point_x - sf * point_y, sf * point_x + cf * point_y  # (legs, P, B)
    pos = np.empty((2, 2, n_pt, nb))
    pos[0] = (((psi[0] + hx) + kx) + ax)[:, None] + px
    pos[1] = (((psi[1] + hy) + ky) + ay)[:, None] + py
    # d/dtheta of R(theta) o = (-y, x) of the rotated vector; links: pelvis, femur, tibia, foot
    jac = np.empty((2, 2, n_pt, 4, nb))
    for k, (lx, ly) in enumerate(((hx, hy), (kx, ky), (ax, ay))):
        jac[0, :, :, k] = -ly[:, None]
        jac[1, :, :, k] = lx[:, None]
    jac[0, :, :, 3] = -py
    jac[1, :, :, 3] = px
    rates = np.empty((2, 4, nb))  # (legs, links, B)
    rates[:, 0] = psidot[2]
    rates[:, 1:] = psidot[4:].reshape(2, 3, -1)
    vel = psidot[:2, None, None, :] + seq_sum(jac * rates[None, :, None, :, :], axis=3)
    return pos, vel, jac


def forward_dynamics(sk: SkeletonConstants, q: np.ndarray, qdot: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Accelerations of the OpenSim coordinates, batch-first.

    q, qdot: (B, 10) positions (m, rad) and velocities (m/s, rad/s); tau: (B, 10)
    generalized forces on the OpenSim coordinates (N for translations, N m for
    rotations). Gravity is included, contact and muscles are not. Returns (B, 10).
    """
    psi = abs_from_rel(q.T)
    psidot = abs_from_rel(qdot.T)
    M, f, _ = mass_matrix_and_forces(sk, psi, psidot)
    Q = abs_forces_from_rel(tau.T)  # generalized forces in absolute coordinates
    psiddot = solve_tree(M, f + Q)
    return rel_from_abs(psiddot).T


def mechanical_energy(sk: SkeletonConstants, q: np.ndarray, qdot: np.ndarray) -> np.ndarray:
    """Kinetic + gravitational potential energy (J), batch-first (B, 10) inputs -> (B,).

    Potential energy is zero at ground level (y = 0).
    """
    psi = abs_from_rel(q.T)
    psidot = abs_from_rel(qdot.T)
    M, _, (cs, sn) = mass_matrix_and_forces(sk, psi, psidot)
    kinetic = 0.5 * np.einsum("ib,ijb,jb->b", psidot, M, psidot)
    com_y_moment = sk.mass_total * psi[1] + (sk.w[0] * sn + sk.w[1] * cs).sum(0)  # sum m_i y_i
    return kinetic + sk.gravity * com_y_moment
