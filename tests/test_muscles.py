"""Hill-muscle curves against Geyer & Herr 2010's analytic forms, inversion, geometry."""

import numpy as np
import pytest

import gaitsim as gs
from gaitsim import muscles as mus
from gaitsim.model import MUSCLE_PAIR, PAIR_COORD
from gaitsim.names import COORDINATES, MUSCLES
from gaitsim.state import mtu_lengths

W, C, N, K = 0.56, np.log(0.05), 1.5, 5.0  # Geyer & Herr 2010 constants, written out independently


def test_force_length_published_values():
    # f_L = exp(c |(l-1)/w|^3): 1 at l_opt, 0.05 at 1 +/- w by definition of c and w
    assert mus.force_length(1.0) == pytest.approx(1.0, abs=1e-15)
    assert mus.force_length(1.0 - W) == pytest.approx(0.05, rel=1e-12)
    assert mus.force_length(1.0 + W) == pytest.approx(0.05, rel=1e-12)
    for l in (0.5, 1.5):
        assert mus.force_length(l) == pytest.approx(0.05 ** ((0.5 / W) ** 3), rel=1e-12)
    assert mus.force_length(0.5) == pytest.approx(0.11856, abs=1e-5)  # 0.05**((0.5/0.56)**3), by hand


def test_force_velocity_published_values():
    # shortening (1+v)/(1-Kv); lengthening N + (N-1)(v-1)/(7.56 K v + 1); v in v_max units
    cases = {-1.0: 0.0, -0.5: 0.5 / 3.5, -0.25: 0.75 / 2.25, 0.0: 1.0,
             0.25: N + (N - 1) * (-0.75) / (7.56 * K * 0.25 + 1), 0.5: N + (N - 1) * (-0.5) / (7.56 * K * 0.5 + 1),
             1.0: N}
    for v, expected in cases.items():
        assert mus.force_velocity(v) == pytest.approx(expected, rel=1e-12, abs=1e-15), v
    assert mus.force_velocity(1e6) == pytest.approx(N + (N - 1) / (7.56 * K), rel=1e-5)  # asymptote 1.513


def test_elastic_elements_at_reference_points():
    fmax, lslack = 1000.0, 0.3
    f, k = mus.tendon_force(lslack * 1.04, lslack, fmax, 0.04)
    assert f == pytest.approx(fmax)  # F_max at the reference strain
    assert k == pytest.approx(2 * fmax / (0.04 * lslack))
    assert mus.tendon_force(lslack * 0.99, lslack, fmax, 0.04)[0] == 0.0  # slack tendon
    assert mus.parallel_force(1.0 + W, fmax, 1.0)[0] == pytest.approx(fmax)
    assert mus.parallel_force(0.9, fmax, 1.0)[0] == 0.0
    assert mus.buffer_force(1.0 - W - W / 2, fmax)[0] == pytest.approx(fmax)
    assert mus.buffer_force(0.9, fmax)[0] == 0.0


def test_velocity_inversion_is_exact_and_finite():
    v = np.linspace(-1.0, 1.0, 2001)
    back, dv = mus.velocity_from_force_ratio(mus.force_velocity(v))
    np.testing.assert_allclose(back, v, atol=1e-12)
    # finite everywhere, monotone, including zero force and far beyond N
    f = np.array([0.0, 1e-12, 0.5, 1.0, 1.4999, 1.5, 2.0, 1e3])
    vv, dd = mus.velocity_from_force_ratio(f)
    assert np.all(np.isfinite(vv)) and np.all(np.isfinite(dd)) and np.all(dd > 0)
    assert vv[0] == pytest.approx(-1.0)
    assert np.all(np.diff(vv) > 0)


def test_fiber_velocity_finite_at_min_activation_and_zero_force():
    m = gs.build_model()
    mp = m.muscles
    n = len(MUSCLES)
    l_opt = mp.l_opt
    for ln in (0.3, 1.0, 1.8):
        lce = ln * l_opt
        for slack_offset in (-0.05, 0.0, 0.02):  # slack tendon (zero force), taut
            lmtu = lce + mp.l_slack * (1 + slack_offset)
            f, v, dvdl, *_ = mus.fiber_dynamics(lce, np.full((n, 1), 0.01), lmtu, mp)
            assert np.all(np.isfinite(v)) and np.all(np.isfinite(dvdl)) and np.all(np.isfinite(f))


def test_fiber_velocity_derivative_matches_finite_difference():
    m = gs.build_model()
    mp = m.muscles
    rng = np.random.default_rng(3)
    n = len(MUSCLES)
    lce = mp.l_opt * rng.uniform(0.6, 1.3, (n, 1))
    lmtu = lce + mp.l_slack * rng.uniform(1.0, 1.035, (n, 1))
    act = rng.uniform(0.05, 1.0, (n, 1))
    _, _, dvdl, *_ = mus.fiber_dynamics(lce, act, lmtu, mp)
    h = 1e-9
    vp = mus.fiber_dynamics(lce + h, act, lmtu, mp)[1]
    vm = mus.fiber_dynamics(lce - h, act, lmtu, mp)[1]
    np.testing.assert_allclose(dvdl, (vp - vm) / (2 * h), rtol=1e-4, atol=1e-3)


def test_equilibrium_fiber_length_has_zero_velocity():
    m = gs.build_model()
    q = gs.standing_pose(m)
    lmtu = mtu_lengths(m, q.T)
    act = np.full((len(MUSCLES), 1), 0.2)
    lce = mus.equilibrium_fiber_length(lmtu, act, m.muscles)
    v = mus.fiber_dynamics(lce, act, lmtu, m.muscles)[1]
    assert np.abs(v).max() < 1e-8


def test_activation_step_is_exact_exponential():
    a0, u, tau, dt = 0.2, 0.9, 0.01, 0.003
    assert mus.activation_step(a0, u, dt, tau) == pytest.approx(u + (a0 - u) * np.exp(-dt / tau), rel=1e-14)


def test_path_does_not_move_when_tendon_or_fiber_changes():
    base = gs.build_model()
    tight = gs.build_model(scale={"muscle.tendon_slack_length.psoas_*": 0.9,
                                  "muscle.optimal_fiber_length.psoas_*": 0.9})
    q = gs.standing_pose(base).T
    q[COORDINATES.index("hip_flexion_r")] = -0.3  # hip extension stretches the psoas
    np.testing.assert_array_equal(mtu_lengths(base, q), mtu_lengths(tight, q))
    act = np.full((len(MUSCLES), 1), 0.01)
    i = MUSCLES.index("psoas_r")
    l_b = mus.equilibrium_fiber_length(mtu_lengths(base, q), act, base.muscles)
    l_t = mus.equilibrium_fiber_length(mtu_lengths(tight, q), act, tight.muscles)
    f_b = mus.fiber_dynamics(l_b, act, mtu_lengths(base, q), base.muscles)[0][i, 0]
    f_t = mus.fiber_dynamics(l_t, act, mtu_lengths(tight, q), tight.muscles)[0][i, 0]
    assert f_t > 2 * f_b + 50.0  # the shortened unit is stretched harder on the same path


def test_moment_arm_is_minus_path_derivative_and_signs():
    m = gs.build_model()
    rng = np.random.default_rng(0)
    q = rng.normal(0, 0.3, (10, 1))
    qp = PAIR_COORD @ q
    dl, arms = mus.path_lengths_and_arms(qp, np.cos(qp), np.sin(qp), m.paths)
    # the closed forms the coefficients encode: r0 cos(q - q_max) and its integral from q_ref
    p = m.paths
    cos_pair = p.is_cosine
    np.testing.assert_allclose(arms, p.r0 * np.where(cos_pair, np.cos(qp - p.q_max), 1.0), atol=1e-15)
    integral = np.where(cos_pair, np.sin(qp - p.q_max) - np.sin(p.q_ref - p.q_max), qp - p.q_ref)
    np.testing.assert_allclose(dl, -p.r0 * integral, atol=1e-15)
    h = 1e-7
    for j in range(3, 10):
        e = np.zeros((10, 1))
        e[j] = h
        dLdq = (mtu_lengths(m, q + e) - mtu_lengths(m, q - e)) / (2 * h)  # (n_muscles, 1)
        arm_j = MUSCLE_PAIR @ (arms * PAIR_COORD[:, [j]])
        np.testing.assert_allclose(arm_j, -dLdq, atol=1e-7)
    def arm(muscle, coord):
        pair = [k for k, row in enumerate(MUSCLE_PAIR[MUSCLES.index(muscle)]) if row and PAIR_COORD[k, COORDINATES.index(coord)]]
        return arms[pair[0], 0]
    assert arm("soleus_r", "ankle_angle_r") < 0  # plantarflexor
    assert arm("tib_ant_r", "ankle_angle_r") > 0  # dorsiflexor
    assert arm("psoas_l", "hip_flexion_l") > 0 and arm("psoas_l", "lumbar") < 0  # hip and lumbar flexor
    assert arm("vasti_r", "knee_angle_r") > 0 and arm("hamstrings_r", "knee_angle_r") < 0
    assert arm("erector_spinae", "lumbar") > 0 and arm("abdominals", "lumbar") < 0


def test_exp_near_matches_exp_over_a_steps_change():
    """``exp_near`` (arithmetic only) replaces exp in the Newton fibre update; its documented error."""
    for bound, tol in ((1.0, 4e-15), (2.0, 3e-12), (8.0, 1e-5)):
        d = np.linspace(-bound, bound, 2001)
        rel = np.abs(mus.exp_near(d) / np.exp(d) - 1.0)
        assert rel.max() < tol, (bound, rel.max())
    assert rel.max() > 1e-7  # at |d| = 8 the polynomial is visibly off: the bound is not vacuous


def test_fiber_dynamics_carries_force_length_from_a_reference():
    m = gs.build_model(batch_size=3)
    rng = np.random.default_rng(1)
    n = len(MUSCLES)
    l_ref = m.muscles.l_opt * rng.uniform(0.6, 1.4, (n, 3))
    l_new = l_ref + rng.uniform(-2e-4, 2e-4, (n, 3))  # a step's change (0.25 ms at up to 0.8 m/s)
    act, l_mtu = rng.uniform(0.01, 1, (n, 3)), l_ref + m.muscles.l_slack * 1.02
    fl_ref = mus.force_length(l_ref / m.muscles.l_opt)
    exact = mus.fiber_dynamics(l_new, act, l_mtu, m.muscles)
    carried = mus.fiber_dynamics(l_new, act, l_mtu, m.muscles,
                                 (fl_ref, mus.force_length_exponent(l_ref / m.muscles.l_opt)))
    for a, b in zip(exact, carried):
        np.testing.assert_allclose(b, a, rtol=1e-13, atol=1e-12)
