"""Independent sympy oracle for ``gaitsim.skeleton.forward_dynamics``.

The oracle is derived here from the kinematic description of the model only
(coordinate order, body chain, joint offsets, CoM offsets, inertias, gravity
along -y); it does not use any formula from ``gaitsim.skeleton``. From
``skeleton`` only the function under test, ``mechanical_energy`` and the
parameter packer ``skeleton_constants`` are imported.

Derivation (hand Lagrangian, all parameters symbolic so one lambdified model
serves every walker):

* body CoM positions p_i(q) are written as explicit functions of the 10
  coordinates by composing the frame origins along the kinematic chain;
* M(q) = sum_i m_i J_i^T J_i + I_i Jw_i^T Jw_i with J_i = dp_i/dq and
  Jw_i = d(theta_i)/dq;
* L = T - V with T = 1/2 qdot^T M qdot, V = sum_i m_i g y_i; Lagrange's
  equations d/dt(dL/dqdot) - dL/dq = tau give
  M qddot = tau + dL/dq - sum_k (dM/dq_k qdot) qdot_k
  with dL/dq_k = 1/2 qdot^T (dM/dq_k) qdot - dV/dq_k.

A second right-hand side from a Newton-Euler/Kane projection
(sum_i J_i^T (m_i a_i) + ... = Q) cross-checks the oracle itself.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from gaitsim import anthropometry as an
from gaitsim.skeleton import forward_dynamics, mechanical_energy, skeleton_constants

B = 6
N_STATES = 24
ANGLE_IDX = slice(2, 10)


# --------------------------------------------------------------------------- symbolic model
def _build_symbolic():
    q = sp.symbols("q0:10")
    qd = sp.symbols("qd0:10")
    tau = sp.symbols("tau0:10")
    m = sp.symbols("m0:8")
    cx = sp.symbols("cx0:8")
    cy = sp.symbols("cy0:8")
    inert = sp.symbols("I0:8")
    jx = sp.symbols("jx0:7")
    jy = sp.symbols("jy0:7")
    g = sp.Symbol("g")
    params = (*m, *cx, *cy, *inert, *jx, *jy, g)

    def R(a):
        return sp.Matrix([[sp.cos(a), -sp.sin(a)], [sp.sin(a), sp.cos(a)]])

    def J(k):
        return sp.Matrix([jx[k], jy[k]])

    tx, ty, tilt, lumbar, hip_r, knee_r, ank_r, hip_l, knee_l, ank_l = q
    # Absolute angles, bodies: pelvis, torso, femur_r, tibia_r, foot_r, femur_l, tibia_l, foot_l.
    th_fem_r = tilt + hip_r
    th_tib_r = th_fem_r + knee_r
    th_foot_r = th_tib_r + ank_r
    th_fem_l = tilt + hip_l
    th_tib_l = th_fem_l + knee_l
    th_foot_l = th_tib_l + ank_l
    theta = [tilt, tilt + lumbar, th_fem_r, th_tib_r, th_foot_r, th_fem_l, th_tib_l, th_foot_l]

    # Frame origins. Joint order: lumbar, hip_r, knee_r, ankle_r, hip_l, knee_l, ankle_l.
    o_pelvis = sp.Matrix([tx, ty])
    o_torso = o_pelvis + R(tilt) * J(0)
    o_fem_r = o_pelvis + R(tilt) * J(1)
    o_tib_r = o_fem_r + R(th_fem_r) * J(2)
    o_foot_r = o_tib_r + R(th_tib_r) * J(3)
    o_fem_l = o_pelvis + R(tilt) * J(4)
    o_tib_l = o_fem_l + R(th_fem_l) * J(5)
    o_foot_l = o_tib_l + R(th_tib_l) * J(6)
    origins = [o_pelvis, o_torso, o_fem_r, o_tib_r, o_foot_r, o_fem_l, o_tib_l, o_foot_l]

    com = [origins[i] + R(theta[i]) * sp.Matrix([cx[i], cy[i]]) for i in range(8)]

    qv = sp.Matrix(q)
    qdv = sp.Matrix(qd)
    M = sp.zeros(10, 10)
    Jc = []
    for i in range(8):
        Ji = com[i].jacobian(qv)
        Jw = sp.Matrix([[theta[i]]]).jacobian(qv)
        Jc.append(Ji)
        M += m[i] * (Ji.T * Ji) + inert[i] * (Jw.T * Jw)
    M = M.applyfunc(sp.expand)

    V = sum(m[i] * g * com[i][1] for i in range(8))
    T = sp.Rational(1, 2) * (qdv.T * M * qdv)[0, 0]

    # Lagrange with T = 1/2 qdot^T M(q) qdot:  dL/dqdot = M qdot, so
    #   d/dt(dL/dqdot) = M qdd + sum_k (dM/dq_k qdot) qdot_k,
    #   dL/dq_k        = 1/2 qdot^T (dM/dq_k) qdot - dV/dq_k,
    # hence M qdd = tau + dL/dq - sum_k (dM/dq_k qdot) qdot_k.
    # (Differentiating the 10x10 entries of M is much cheaper than differentiating L as one expression.)
    dM = [M.diff(v) for v in q]
    dL_dq = sp.Matrix([sp.Rational(1, 2) * (qdv.T * dM[k] * qdv)[0, 0] - sp.diff(V, q[k]) for k in range(10)])
    dp_dq_qd = sp.zeros(10, 1)
    for k in range(10):
        dp_dq_qd += dM[k] * qdv * qd[k]
    rhs_lagrange = sp.Matrix(tau) + dL_dq - dp_dq_qd

    # Kane / Newton-Euler projection: sum_i J_i^T m_i (J_i qdd + Jdot_i qd) + I_i Jw^T Jw qdd = tau + Q_g
    rhs_kane = sp.Matrix(tau)
    for i in range(8):
        Ji = Jc[i]
        vi = Ji * qdv
        Jdot_qd = vi.jacobian(qv) * qdv  # d/dt(J_i) qdot  (J depends on q only)
        rhs_kane -= m[i] * Ji.T * Jdot_qd
        rhs_kane += Ji.T * sp.Matrix([0, -m[i] * g])

    E = T + V
    return q, qd, tau, params, M, rhs_lagrange, rhs_kane, E


class Oracle:
    """Lambdified sympy model evaluated over a batch of walkers."""

    def __init__(self):
        q, qd, tau, params, M, rhs_l, rhs_k, E = _build_symbolic()
        args = (*q, *qd, *tau, *params)
        self._M = sp.lambdify(args, list(M), modules="numpy", cse=True)
        self._rhs_l = sp.lambdify(args, list(rhs_l), modules="numpy", cse=True)
        self._rhs_k = sp.lambdify(args, list(rhs_k), modules="numpy", cse=True)
        self._E = sp.lambdify(args, [E], modules="numpy", cse=True)

    @staticmethod
    def _args(q, qd, tau, pvec):
        # q, qd, tau: (B, 10); pvec: (B, 47) -> tuple of (B,) columns.
        cols = np.concatenate([q, qd, tau, pvec], axis=1)
        return tuple(cols[:, k] for k in range(cols.shape[1]))

    @staticmethod
    def _stack(vals, n):
        return np.stack([np.broadcast_to(np.asarray(v, dtype=float), (n,)) for v in vals], axis=-1)

    def mass_matrix(self, q, pvec):
        z = np.zeros_like(q)
        n = q.shape[0]
        return self._stack(self._M(*self._args(q, z, z, pvec)), n).reshape(n, 10, 10)

    def rhs(self, q, qd, tau, pvec, kind="lagrange"):
        f = self._rhs_l if kind == "lagrange" else self._rhs_k
        return self._stack(f(*self._args(q, qd, tau, pvec)), q.shape[0])

    def qddot(self, q, qd, tau, pvec, kind="lagrange"):
        M = self.mass_matrix(q, pvec)
        return np.linalg.solve(M, self.rhs(q, qd, tau, pvec, kind)[..., None])[..., 0]

    def energy(self, q, qd, pvec):
        z = np.zeros_like(q)
        return self._stack(self._E(*self._args(q, qd, z, pvec)), q.shape[0])[:, 0]


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def oracle():
    return Oracle()


def _walker_params(gravity_scale=1.0):
    """Per-walker perturbed body parameters (seeded), left and right legs different."""
    rng = np.random.default_rng(20240611)
    d = an.body_defaults(np.full(B, 75.0) * rng.uniform(0.8, 1.2, B), np.full(B, 1.75) * rng.uniform(0.9, 1.1, B))
    mass = d["body.segment_mass"] * rng.uniform(0.7, 1.3, (B, 8))
    com_x = d["body.segment_com_x"] + rng.normal(0.0, 0.02, (B, 8))
    com_y = d["body.segment_com_y"] + rng.normal(0.0, 0.02, (B, 8))
    inertia = d["body.segment_inertia"] * rng.uniform(0.7, 1.3, (B, 8))
    joint_x = d["body.joint_x"] + rng.normal(0.0, 0.02, (B, 7))
    joint_y = d["body.joint_y"] + rng.normal(0.0, 0.02, (B, 7))
    gravity = d["body.gravity"] * rng.uniform(0.9, 1.1, B) * gravity_scale
    # Make the legs clearly asymmetric (right femur/tibia/foot vs left).
    assert not np.allclose(mass[:, 2:5], mass[:, 5:8])
    assert not np.allclose(joint_y[:, 1:4], joint_y[:, 4:7])
    arrs = dict(mass=mass, com_x=com_x, com_y=com_y, inertia=inertia,
                joint_x=joint_x, joint_y=joint_y, gravity=gravity)
    arrs = {k: np.ascontiguousarray(v) for k, v in arrs.items()}
    pvec = np.concatenate([mass, com_x, com_y, inertia, joint_x, joint_y, gravity[:, None]], axis=1)
    sk = skeleton_constants(arrs["mass"].copy(), arrs["com_x"].copy(), arrs["com_y"].copy(),
                            arrs["inertia"].copy(), arrs["joint_x"].copy(), arrs["joint_y"].copy(),
                            arrs["gravity"].copy())
    return sk, pvec


@pytest.fixture(scope="module")
def walkers():
    return _walker_params()


@pytest.fixture(scope="module")
def walkers_zero_g():
    return _walker_params(gravity_scale=0.0)


def _random_state(rng):
    q = np.empty((B, 10))
    q[:, 0] = rng.uniform(-5.0, 5.0, B)
    q[:, 1] = rng.uniform(-1.0, 2.0, B)
    q[:, ANGLE_IDX] = rng.normal(0.0, 0.6, (B, 8))
    qd = rng.normal(0.0, 2.0, (B, 10))
    tau = rng.normal(0.0, 50.0, (B, 10))
    return q, qd, tau


def _rel_err(a, ref):
    return np.linalg.norm(a - ref, axis=-1) / np.linalg.norm(ref, axis=-1)


# --------------------------------------------------------------------------- tests
def test_oracle_self_consistency(oracle, walkers):
    """Lagrangian and Kane right-hand sides agree; M is symmetric positive definite."""
    _, pvec = walkers
    rng = np.random.default_rng(1)
    for _ in range(5):
        q, qd, tau = _random_state(rng)
        rl = oracle.rhs(q, qd, tau, pvec, "lagrange")
        rk = oracle.rhs(q, qd, tau, pvec, "kane")
        assert np.max(_rel_err(rl, rk)) < 1e-12
        M = oracle.mass_matrix(q, pvec)
        np.testing.assert_allclose(M, np.swapaxes(M, 1, 2), rtol=0, atol=1e-12)
        assert np.all(np.linalg.eigvalsh(M) > 0)


def test_forward_dynamics_matches_oracle(oracle, walkers):
    sk, pvec = walkers
    rng = np.random.default_rng(12345)
    worst = 0.0
    for _ in range(N_STATES):
        q, qd, tau = _random_state(rng)
        ref = oracle.qddot(q, qd, tau, pvec)
        got = np.asarray(forward_dynamics(sk, q.copy(), qd.copy(), tau.copy()))
        assert got.shape == (B, 10)
        err = _rel_err(got, ref)
        worst = max(worst, float(err.max()))
        assert np.all(err <= 1e-8), f"relative error per walker {err}"
    print(f"max relative qddot error: {worst:.3e}")


def test_forward_dynamics_matches_oracle_single_walker(oracle):
    """B = 1 batch (catches broadcasting/shape slips that hide at B > 1)."""
    rng = np.random.default_rng(7)
    d = an.body_defaults(np.array([70.0]), np.array([1.7]))
    sk = skeleton_constants(d["body.segment_mass"], d["body.segment_com_x"], d["body.segment_com_y"],
                            d["body.segment_inertia"], d["body.joint_x"], d["body.joint_y"], d["body.gravity"])
    pvec = np.concatenate([d["body.segment_mass"], d["body.segment_com_x"], d["body.segment_com_y"],
                           d["body.segment_inertia"], d["body.joint_x"], d["body.joint_y"],
                           d["body.gravity"][:, None]], axis=1)
    for _ in range(5):
        q, qd, tau = (a[:1] for a in _random_state(rng))
        ref = oracle.qddot(q, qd, tau, pvec)
        got = np.asarray(forward_dynamics(sk, q, qd, tau))
        assert got.shape == (1, 10)
        assert np.all(_rel_err(got, ref) <= 1e-8)


def test_mechanical_energy_matches_oracle(oracle, walkers):
    sk, pvec = walkers
    rng = np.random.default_rng(999)
    worst = 0.0
    for _ in range(N_STATES):
        q, qd, _ = _random_state(rng)
        ref = oracle.energy(q, qd, pvec)
        got = np.asarray(mechanical_energy(sk, q.copy(), qd.copy()))
        assert got.shape == (B,)
        err = np.abs(got - ref) / np.abs(ref)
        worst = max(worst, float(err.max()))
        assert np.all(err <= 1e-10), f"relative energy error per walker {err}"
    print(f"max relative energy error: {worst:.3e}")


def test_energy_rate_equals_power(walkers):
    """dE/dt along forward_dynamics equals tau . qdot (gaitsim self-consistency, central differences)."""
    sk, _ = walkers
    rng = np.random.default_rng(31)
    for _ in range(4):
        q, qd, tau = _random_state(rng)
        qdd = forward_dynamics(sk, q, qd, tau)
        h = 1e-6
        dE = (mechanical_energy(sk, q + h * qd, qd + h * qdd) - mechanical_energy(sk, q - h * qd, qd - h * qdd)) / (2 * h)
        power = np.sum(tau * qd, axis=1)
        scale = np.abs(power) + np.abs(mechanical_energy(sk, q, qd))
        assert np.all(np.abs(dE - power) <= 1e-6 * scale)


def test_zero_gravity_rest_has_zero_acceleration(oracle, walkers_zero_g):
    sk, pvec = walkers_zero_g
    rng = np.random.default_rng(5)
    q, _, _ = _random_state(rng)
    z = np.zeros((B, 10))
    got = np.asarray(forward_dynamics(sk, q, z, z))
    np.testing.assert_allclose(got, 0.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(oracle.qddot(q, z, z, pvec), 0.0, rtol=0, atol=1e-12)


def test_gravity_only_at_zero_pose(oracle, walkers):
    """Gravity alone (qdot = 0, tau = 0) at q = 0 matches the oracle.

    For this free-floating tree (no contacts), uniform gravity and zero velocity give
    pure free fall: qddot = (0, -g, 0, ..., 0) whatever the mass distribution, so the
    check exercises gaitsim's gravity forces against its mass matrix (a wrong gravity
    term would make the joints accelerate) rather than the individual body parameters.
    """
    sk, pvec = walkers
    z = np.zeros((B, 10))
    g = pvec[:, -1]
    ref = oracle.qddot(z, z, z, pvec)
    got = np.asarray(forward_dynamics(sk, z, z, z))
    assert np.all(_rel_err(got, ref) <= 1e-8)
    free_fall = np.zeros((B, 10))
    free_fall[:, 1] = -g
    np.testing.assert_allclose(ref, free_fall, rtol=0, atol=1e-12 * g.max())
    np.testing.assert_allclose(got, free_fall, rtol=0, atol=1e-9 * g.max())


def test_gravity_only_free_fall_at_random_poses(walkers):
    sk, pvec = walkers
    rng = np.random.default_rng(77)
    g = pvec[:, -1]
    free_fall = np.zeros((B, 10))
    free_fall[:, 1] = -g
    for _ in range(5):
        q, _, _ = _random_state(rng)
        z = np.zeros((B, 10))
        got = np.asarray(forward_dynamics(sk, q, z, z))
        np.testing.assert_allclose(got, free_fall, rtol=0, atol=1e-9 * g.max())
