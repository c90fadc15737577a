"""Pure load and energy functions (gaitsim.loads): lumbar free body, work, metabolic model."""

import numpy as np
import pytest

import gaitsim as gs
from gaitsim import loads, skeleton
from gaitsim.names import COORDINATES, MUSCLES, N_MUSCLES

I_TILT, I_LUMBAR = COORDINATES.index("pelvis_tilt"), COORDINATES.index("lumbar")


@pytest.fixture(scope="module")
def model3():
    return gs.build_model(batch_size=3, body_mass=[60.0, 75.0, 90.0], height=[1.6, 1.75, 1.9])


def _random_state(rng, b):
    q = rng.uniform(-0.6, 0.6, (b, 10))
    q[:, 1] = 1.0
    return q, rng.uniform(-3.0, 3.0, (b, 10))


def test_static_trunk_without_muscles_carries_its_weight(model3):
    """Muscles off, trunk at rest: compression m_T g cos(theta_T), shear -m_T g sin(theta_T)
    (forward lean, theta_T < 0, gives anterior shear)."""
    rng = np.random.default_rng(1)
    q, _ = _random_state(rng, 3)
    zero = np.zeros((3, 10))
    comp, shear = loads.lumbar_load(q, zero, zero, np.zeros((3, N_MUSCLES)), model3)
    m_t = model3.params["body.segment_mass"][:, 1]
    theta = q[:, I_TILT] + q[:, I_LUMBAR]
    np.testing.assert_allclose(comp, m_t * 9.80665 * np.cos(theta), rtol=1e-12)
    np.testing.assert_allclose(shear, -m_t * 9.80665 * np.sin(theta), rtol=1e-12)
    lean = q.copy()
    lean[:, I_TILT], lean[:, I_LUMBAR] = -0.3, 0.0
    assert np.all(loads.lumbar_load(lean, zero, zero, np.zeros((3, N_MUSCLES)), model3)[1] > 0)


def test_body_reaction_satisfies_torso_euler_equation_of_the_skeleton(model3):
    """At random states and generalized forces, the skeleton's own forward dynamics (mass matrix)
    gives qddot; the lumbar reaction R of the free body must then satisfy the torso's rotational
    equation about its CoM, I_C thetaddot_T = tau_lumbar + (p_J - p_C) x R, an independent check
    of the CoM acceleration used in R."""
    rng = np.random.default_rng(7)
    for _ in range(5):
        q, qdot = _random_state(rng, 3)
        tau = rng.normal(0.0, 50.0, (3, 10))
        qddot = skeleton.forward_dynamics(model3.skeleton, q, qdot, tau)
        comp, shear = loads.lumbar_load_parts(q, qdot, qddot, np.zeros((3, N_MUSCLES)), model3)["body"]
        e_long, e_ap = loads.torso_axes(q)
        R = comp[:, None] * e_long - shear[:, None] * e_ap
        tp = loads.torso_parameters(model3)
        th = q[:, I_TILT] + q[:, I_LUMBAR]
        c, s = np.cos(th), np.sin(th)
        arm = -np.stack([c * tp["com_x"] - s * tp["com_y"], s * tp["com_x"] + c * tp["com_y"]], axis=1)
        inertia = model3.params["body.segment_inertia"][:, 1]
        lhs = inertia * (qddot[:, I_TILT] + qddot[:, I_LUMBAR])
        rhs = tau[:, I_LUMBAR] + arm[:, 0] * R[:, 1] - arm[:, 1] * R[:, 0]
        np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-9)
        # and the translational equation: R + m g + (no muscles) = m a_C
        a_c = loads.torso_com_acceleration(q, qdot, qddot, model3)
        m_t = tp["mass"][:, None]
        np.testing.assert_allclose(R + m_t * np.array([0.0, -9.80665]), m_t * a_c, rtol=1e-10, atol=1e-9)


def test_torso_com_acceleration_matches_finite_differences(model3):
    """Analytic CoM acceleration against a central second difference of the CoM position along
    q(t) = q0 + v t + a t^2 / 2 (position from the skeleton's joint geometry)."""
    rng = np.random.default_rng(3)
    q0, v = _random_state(rng, 3)
    acc = rng.uniform(-5, 5, (3, 10))
    tp = loads.torso_parameters(model3)

    def com(q):
        tilt, th = q[:, I_TILT], q[:, I_TILT] + q[:, I_LUMBAR]
        jx = q[:, 0] + np.cos(tilt) * tp["joint_x"] - np.sin(tilt) * tp["joint_y"]
        jy = q[:, 1] + np.sin(tilt) * tp["joint_x"] + np.cos(tilt) * tp["joint_y"]
        return np.stack([jx + np.cos(th) * tp["com_x"] - np.sin(th) * tp["com_y"],
                         jy + np.sin(th) * tp["com_x"] + np.cos(th) * tp["com_y"]], axis=1)

    h = 1e-4
    pos = [com(q0 + v * t + 0.5 * acc * t**2) for t in (-h, 0.0, h)]
    fd = (pos[0] - 2 * pos[1] + pos[2]) / h**2
    np.testing.assert_allclose(loads.torso_com_acceleration(q0, v, acc, model3), fd, rtol=1e-5, atol=1e-4)


def test_muscle_lines_of_action(model3):
    """Erector spinae and abdominals add their whole force as compression; the psoas adds
    F cos(15.7 deg) compression and F sin(15.7 deg) anterior shear at zero tilt and lumbar angle,
    and its line turns with the pelvis, not the trunk."""
    q = np.zeros((3, 10))
    zero = np.zeros((3, 10))
    base = loads.lumbar_load(q, zero, zero, np.zeros((3, N_MUSCLES)), model3)
    for name in ("erector_spinae", "abdominals"):
        f = np.zeros((3, N_MUSCLES))
        f[:, MUSCLES.index(name)] = 1000.0
        comp, shear = loads.lumbar_load(q, zero, zero, f, model3)
        np.testing.assert_allclose(comp - base[0], 1000.0)
        np.testing.assert_allclose(shear - base[1], 0.0, atol=1e-9)
    f = np.zeros((3, N_MUSCLES))
    f[:, MUSCLES.index("psoas_r")] = 1000.0
    comp, shear = loads.lumbar_load(q, zero, zero, f, model3)
    angle = np.arctan2(0.0409, 0.1457)
    np.testing.assert_allclose(comp - base[0], 1000.0 * np.cos(angle), rtol=1e-9)
    np.testing.assert_allclose(shear - base[1], 1000.0 * np.sin(angle), rtol=1e-9)
    q2 = q.copy()
    q2[:, I_LUMBAR] = 0.2  # trunk extends (backward) 0.2 rad on a fixed pelvis: its axis turns toward the psoas line
    muscle_part = loads.lumbar_load_parts(q2, zero, zero, f, model3)["psoas_r"]
    np.testing.assert_allclose(muscle_part[0], 1000.0 * np.cos(angle - 0.2), rtol=1e-9)
    np.testing.assert_allclose(muscle_part[1], 1000.0 * np.sin(angle - 0.2), rtol=1e-9)


def test_work_of_synthetic_power_and_joint_power():
    t = np.linspace(0.0, 1.0, 2001)
    p = np.sin(2 * np.pi * t)
    pos, neg = loads.positive_negative_work(t, p, np.array([0.0]), np.array([1.0]))
    np.testing.assert_allclose(pos, 1 / np.pi, rtol=1e-5)
    np.testing.assert_allclose(neg, -1 / np.pi, rtol=1e-5)
    # constant moment M through theta(t): work = M (theta(b) - theta(a)) = integral of joint power
    theta, omega = 0.5 * np.sin(3 * t), 1.5 * np.cos(3 * t)
    from gaitsim.analysis import joint_power

    w = loads.interval_integral(t, joint_power(40.0, omega), np.array([0.1, 0.2]), np.array([0.9, 0.65]))
    ends, starts = np.array([0.9, 0.65]), np.array([0.1, 0.2])
    np.testing.assert_allclose(w, 40.0 * 0.5 * (np.sin(3 * ends) - np.sin(3 * starts)), rtol=1e-6)
    # positive + negative = net, also over windows that cut sign changes
    a, b = np.array([0.05, 0.3]), np.array([0.77, 0.95])
    pw, nw = loads.positive_negative_work(t, p, a, b)
    np.testing.assert_allclose(pw + nw, loads.interval_integral(t, p, a, b), atol=1e-12)


def _rate(u=0.5, a=0.5, l_norm=1.0, v_norm=0.0, f_ce=1000.0, f_iso=1.0, mass=1.0, st=0.5, v_max=12.0, **kw):
    return loads.umberger2010_rate(u, a, l_norm, v_norm, f_ce, f_iso, mass, st, v_max, l_opt=0.1, **kw)


def test_metabolic_isometric_is_activation_and_maintenance_only():
    r = _rate(u=1.0, a=1.0)
    np.testing.assert_allclose(r["activation_maintenance"], (128 * 0.5 + 25) * 1.5)  # 133.5 W/kg x 1 kg
    assert r["shortening_lengthening"] == 0.0 and r["work"] == 0.0
    np.testing.assert_allclose(r["total"], r["activation_maintenance"])
    # on the descending limb the maintenance heat scales with (0.4 + 0.6 f_iso)
    r2 = _rate(u=1.0, a=1.0, l_norm=1.3, f_iso=0.5)
    np.testing.assert_allclose(r2["activation_maintenance"], 133.5 * 0.7)
    # A = (u + a)/2 when excitation falls below activation
    np.testing.assert_allclose(_rate(u=0.2, a=0.6)["activation_maintenance"], 89 * 1.5 * 0.4**0.6)


def test_metabolic_concentric_and_eccentric():
    v = -12.0 / 4  # v_max / 4 shortening (l_opt/s)
    r = _rate(u=1.0, a=1.0, v_norm=v)
    alpha_st, alpha_ft = 100 / (12 / 2.5), 153 / 12
    np.testing.assert_allclose(r["shortening_lengthening"], -(alpha_st * 0.5 + alpha_ft * 0.5) * v * 1.5)
    np.testing.assert_allclose(r["work"], 1000.0 * 3.0 * 0.1)  # F x |v| (m/s)
    e = _rate(u=1.0, a=1.0, v_norm=2.0, f_ce=1500.0)
    assert e["work"] == 0.0  # negative work not credited (Umberger 2010)
    assert e["shortening_lengthening"] > 0 and e["total"] >= e["activation_maintenance"]
    np.testing.assert_allclose(e["shortening_lengthening"], 0.3 * alpha_st * 2.0 * 1.5)


def test_metabolic_heat_floor_and_mass():
    r = _rate(u=1e-4, a=1e-4, mass=2.0)
    np.testing.assert_allclose(r["total"], 2.0 * loads.MIN_HEAT_RATE)
    assert _rate(u=1e-4, a=1e-4, mass=2.0, min_heat_rate=None)["total"] < 2.0
    np.testing.assert_allclose(loads.muscle_mass(2500.0, 0.1), 2500.0 / 0.25e6 * 1059.7 * 0.1)
    st = loads.slow_twitch_fractions()
    assert st.shape == (N_MUSCLES,) and np.all((st > 0.3) & (st < 0.9))
    assert st[MUSCLES.index("soleus_l")] == pytest.approx(0.803)


def test_batched_shapes(model3):
    rng = np.random.default_rng(0)
    q = rng.uniform(-0.3, 0.3, (3, 7, 10))
    f = rng.uniform(0, 500, (3, 7, N_MUSCLES))
    comp, shear = loads.lumbar_load(q, q * 0, q * 0, f, model3)
    assert comp.shape == shear.shape == (3, 7)
    for i in range(3):  # each walker alone gives the same numbers
        mi = gs.select_walkers(model3, i)
        ci, si = loads.lumbar_load(q[i:i + 1], q[i:i + 1] * 0, q[i:i + 1] * 0, f[i:i + 1], mi)
        np.testing.assert_allclose(ci[0], comp[i])
        np.testing.assert_allclose(si[0], shear[i])


def test_skeleton_accelerations_match_forward_dynamics(model3):
    """Without contact forces, the recomputed accelerations are the skeleton's forward dynamics;
    a vertical contact force on one sphere adds J^T F (checked against a finite-difference
    Jacobian of that sphere's centre via gaitsim.state.sphere_kinematics)."""
    rng = np.random.default_rng(5)
    q, qdot = _random_state(rng, 3)
    tau = rng.normal(0.0, 30.0, (3, 10))
    zero_c = np.zeros((3, 1, 4, 2))
    got = loads.skeleton_accelerations(q[:, None], qdot[:, None], tau[:, None], zero_c, model3)[:, 0]
    np.testing.assert_allclose(got, skeleton.forward_dynamics(model3.skeleton, q, qdot, tau), rtol=1e-10, atol=1e-9)
    from gaitsim.state import sphere_kinematics

    def heel_r(qq):
        return sphere_kinematics(model3, qq.T)[0][:, 0, 0].T  # (B, 2) right heel centre

    h = 1e-6
    jac = np.stack([(heel_r(q + h * np.eye(10)[k]) - heel_r(q - h * np.eye(10)[k])) / (2 * h) for k in range(10)],
                   axis=-1)  # (B, 2, 10)
    force = np.array([30.0, 400.0])
    c = zero_c.copy()
    c[:, 0, 0] = force
    got = loads.skeleton_accelerations(q[:, None], qdot[:, None], tau[:, None], c, model3)[:, 0]
    want = skeleton.forward_dynamics(model3.skeleton, q, qdot, tau + np.einsum("bxk,x->bk", jac, force))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
