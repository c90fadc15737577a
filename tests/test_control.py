"""Neural delay lines and the simple controllers."""

import numpy as np
import pytest

import gaitsim as gs


def test_delay_line_delays_by_whole_steps():
    dt = 2.5e-4
    delays = [0.005, 0.010, 0.020]  # Geyer & Herr 2010: hip/trunk, knee, ankle
    line = gs.DelayLine(delays, dt)
    np.testing.assert_array_equal(line.steps, [20, 40, 80])
    b = 3
    mem = line.initial_memory(np.full((3, b), -1.0))
    outputs = []
    for n in range(200):
        values = np.tile(np.array([[n], [n], [n]], float), (1, b)) + np.arange(b)  # differs per walker
        outputs.append(line.push(mem, values, line.step_index(n * dt)))
    outputs = np.array(outputs)  # (steps, signals, B)
    for sig, k in enumerate([20, 40, 80]):
        assert np.all(outputs[:k, sig] == -1.0)  # initial value until the delay has passed
        n = np.arange(k, 200)
        np.testing.assert_array_equal(outputs[k:, sig, 1], n - k + 1)


def test_delay_line_rejects_bad_input():
    with pytest.raises(ValueError, match="delays"):
        gs.DelayLine([-0.01], 1e-3)
    with pytest.raises(ValueError, match="dt"):
        gs.DelayLine([0.01], 0.0)


def test_constant_excitation_dict():
    m = gs.build_model(batch_size=2)
    c = gs.ConstantExcitation({"soleus_r": 0.5})
    c.initial_memory(m, None, None)
    out = c(0.0, None, np.zeros((0, 2)))
    assert out.excitation.shape == (len(gs.MUSCLES), 2)
    assert out.excitation[gs.MUSCLES.index("soleus_r")].tolist() == [0.5, 0.5]
    assert out.excitation[gs.MUSCLES.index("soleus_l")].tolist() == [0.01, 0.01]


def test_trunk_push_delivers_its_impulse():
    from gaitsim.skeleton import abs_from_rel

    m = gs.build_model(muscles=False, contact=False, joint_limits=False)
    x0 = gs.initial_state(m, gs.standing_pose(m, 1.0))
    ctrl = gs.TrunkPush(gs.ConstantExcitation(), force=200.0, start=0.01, duration=0.05)
    res = gs.simulate(m, ctrl, duration=0.1, initial_state=x0, save=gs.SaveEvery(1, ("q", "qdot")),
                      fall_height=-1e6)
    # linear momentum in x: sum m_i xdot_i = M_x-row . psidot (first row of the mass matrix)
    from gaitsim import skeleton

    def px(i):
        psi = abs_from_rel(res["q"][:, i].T)
        psid = abs_from_rel(res["qdot"][:, i].T)
        M, _, _ = skeleton.mass_matrix_and_forces(m.skeleton, psi, psid)
        return np.einsum("jb,jb->b", M[0], psid)[0]

    assert px(len(res.time) - 1) - px(0) == pytest.approx(200.0 * 0.05, rel=1e-3)  # impulse 10 N s
    # no push, no momentum change
    quiet = gs.simulate(m, gs.TrunkPush(gs.ConstantExcitation(), force=0.0), duration=0.02, initial_state=x0,
                        save=gs.SaveEvery(1, ("q", "qdot")), fall_height=-1e6)
    assert np.abs(quiet["qdot"][0, -1, 0]) < 1e-12


def test_bind_step_reaches_the_wrapped_controller():
    """``simulate`` hands its step to the controller (``control.bind_step``); wrappers hand it on;
    controllers that count no steps ignore it."""
    from gaitsim.control import bind_step
    from gaitsim.profiles import CombinedController, ProfileController

    class Counting(gs.ConstantExcitation):
        steps: list

        def bind_step(self, dt):
            self.steps.append(dt)

    inner = Counting()
    inner.steps = []
    for wrapped in (inner, gs.TrunkPush(inner), gs.ExcitationOffset(inner, {}),
                    CombinedController(inner, ProfileController(np.full((len(gs.MUSCLES), 1), 0.01)))):
        bind_step(wrapped, 5e-4)
    assert inner.steps == [5e-4] * 4
    bind_step(gs.PoseHold(), 5e-4)  # no bind_step: nothing happens
    gs.simulate(gs.build_model(), gs.TrunkPush(inner), duration=0.001, dt=2.5e-4)
    assert inner.steps[-1] == 2.5e-4
