"""The forward recipe: implicit damping terms and contact forces against dense references."""

import numpy as np
import pytest

import gaitsim as gs
from gaitsim import dynamics as dy
from gaitsim import skeleton


def _forces(b=3, seed=0):
    m = gs.build_model(batch_size=b)
    rng = np.random.default_rng(seed)
    x = gs.initial_state(m, gs.standing_pose(m, -0.004)).T  # feet pressed 4 mm into the ground
    x[10:20] += rng.normal(0, 0.05, (10, b))
    x[60:64] -= 0.002  # stiction anchors 2 mm behind the spheres
    x[64:68] = 1.0  # sticking
    fs = dy.evaluate_forces(m, x[0:10], x[10:20], x[20:40], x[40:60], x[60:64].reshape(2, 2, b),
                            x[64:68].reshape(2, 2, b))
    return m, fs, b


def _dense_jacobians(m, fs, b):
    """J (2 xy, 2 legs, 2 spheres, 10, B): d(sphere centre)/d(psi) by finite differences."""
    sk = m.skeleton
    psi = fs.psi
    J = np.zeros((2, 2, 2, 10, b))
    h = 1e-7
    for k in range(10):
        e = np.zeros_like(psi)
        e[k] = h
        pp, _, _ = skeleton.foot_point_kinematics(sk, psi + e, 0 * psi, np.cos(psi[2:] + e[2:]), np.sin(psi[2:] + e[2:]),
                                                  m.contact.sphere_x, m.contact.sphere_y)
        pm, _, _ = skeleton.foot_point_kinematics(sk, psi - e, 0 * psi, np.cos(psi[2:] - e[2:]), np.sin(psi[2:] - e[2:]),
                                                  m.contact.sphere_x, m.contact.sphere_y)
        J[..., k, :] = (pp - pm) / (2 * h)
    return J


def test_implicit_contact_damping_is_c_JT_J():
    m, fs, b = _forces()
    assert fs.cn.max() > 0 and fs.ct.max() > 0  # both damping terms active
    M = np.zeros((10, 10, b))
    dy._add_contact_damping(M, fs, 1.0)
    J = _dense_jacobians(m, fs, b)
    c = np.stack([fs.ct, fs.cn])
    ref = np.einsum("dlsib,dlsjb,dlsb->ijb", J, J, c)
    np.testing.assert_allclose(M, ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())


def test_contact_generalized_forces_are_JT_F():
    m, fs, b = _forces(seed=1)
    J = _dense_jacobians(m, fs, b)
    F = np.stack([fs.ft, fs.fn])  # (2 xy, legs, spheres, B)
    Q_ref = np.einsum("dlsib,dlsb->ib", J, F)
    # accelerations() adds J^T F; recover it by differencing with contact forces zeroed
    qdd = dy.accelerations(m, fs)
    fs0 = dy.ForceState(**{**fs.__dict__, "fn": 0 * fs.fn, "ft": 0 * fs.ft})
    qdd0 = dy.accelerations(m, fs0)
    psi_dd = skeleton.abs_from_rel(qdd - qdd0)
    Q = np.einsum("ijb,jb->ib", fs.mass_matrix, psi_dd)
    np.testing.assert_allclose(Q, Q_ref, rtol=1e-6, atol=1e-6 * np.abs(Q_ref).max())


def test_joint_damping_in_absolute_coordinates():
    m, fs, b = _forces()
    d = np.random.default_rng(2).uniform(0, 10, (10, b))
    M = np.zeros((10, 10, b))
    dy._add_joint_damping(M, d)
    G = skeleton.T_REL_FROM_ABS
    ref = np.einsum("ja,jb,jB->abB", G, G, d)
    np.testing.assert_allclose(M, ref, atol=1e-12)


#: s: long enough for the first toe-offs, where a sphere rises faster than the contact's damping
#: velocity and leaves the active set (1/3 m/s since gaitsim 0.8: later than with 0.03 m/s); the
#: stage-16 trunk-initiated walker's first such change in this batch comes between 0.95 and 1.1 s
DURATION_ACTIVE_SET = 1.1


@pytest.mark.slow
def test_active_set_resolves_only_the_walkers_that_changed(monkeypatch):
    """In a batch, the contact active set's second solve takes only the walkers whose set changed
    (``dynamics._solve_inputs_of``); each walker must still get its single-run numbers exactly."""
    from gaitsim.tuned import load_tuned, tuned_solver, walker_from_solutions

    used = []
    cut = dy._solve_inputs_of
    monkeypatch.setattr(dy, "_solve_inputs_of", lambda fs, w, fn, cn: used.append(len(w)) or cut(fs, w, fn, cn))
    sol = load_tuned("trunk_initiated")
    mass = np.array([58.0, 66.0, 74.0, 82.0, 90.0, 70.0])  # kg: walkers that reach toe-off at different times

    def run(masses):
        model = gs.build_model(batch_size=len(masses), body_mass=masses)
        ctrl, x0 = walker_from_solutions(model, sol, backend="numpy")  # the numpy path is tested
        return gs.simulate(model, ctrl, duration=DURATION_ACTIVE_SET, initial_state=x0, save=gs.SaveFinal(),
                           solver=tuned_solver(sol, "numpy")).final_state

    batch = run(mass)
    assert used and max(used) < 3  # the subset path ran, on fewer than half the walkers
    for i in (0, 3, 5):
        np.testing.assert_array_equal(batch[i], run(mass[i:i + 1])[0])


def test_the_forward_stages_make_the_force_state():
    """``evaluate_forces`` is its stages put together: kinematics, muscles, contact, joint limits;
    their fields are the ``ForceState``'s, each once."""
    from dataclasses import fields

    m, forces, b = _forces()
    q, qdot = forces.q, forces.qdot
    x = gs.initial_state(m, gs.standing_pose(m, -0.004)).T
    act, lce = x[20:40], x[40:60]
    anchor, mode = forces.sphere_pos[0] - 0.002, np.ones((2, 2, b))
    kin = dy.kinematics(m, q, qdot)
    again = dy.evaluate_forces(m, q, qdot, act, lce, anchor, mode)
    stages = {"psi": kin.psi, "psidot": kin.psidot, "mass_matrix": kin.mass_matrix, "bias": kin.bias,
              **dy.muscle_forces(m, q, act, lce)._asdict(), **dy.contact_forces(m, kin, anchor, mode)._asdict(),
              **dy.joint_limit_forces(m, q, qdot)._asdict()}
    assert set(stages) == {f.name for f in fields(dy.ForceState)} - {"q", "qdot", "padded"}
    for name, value in stages.items():
        np.testing.assert_array_equal(getattr(again, name), value, err_msg=name)
    assert (again.fn > 0).any() and again.mass_matrix.shape == (10, 10, b)
    bare = dy.no_muscle_forces(b)
    assert bare.force.shape == (len(gs.MUSCLES), b) and bare.muscle_moment.shape == (10, b)
    assert not any(a.any() for a in bare)
