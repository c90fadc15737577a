"""Reflex controller: delays, stance laws, phase hysteresis, calf stretch reflex, lumbar control."""

from types import SimpleNamespace

import numpy as np
import pytest

import gaitsim as gs
from functools import partial

from gaitsim.profiles import CombinedController, ProfileController
from gaitsim.reflex import ReflexController as _ReflexController
from gaitsim.reflex import ReflexGains

# these tests check the numpy reference law (test_compiled checks the numba kernel against it)
ReflexController = partial(_ReflexController, backend="numpy")

DT = 2.5e-4
MI = {m: i for i, m in enumerate(gs.MUSCLES)}


def _sensors(model, load=(0.0, 0.0), f_norm=None, l_norm=None, v_norm=None, lean=0.0, knee=0.0):
    b = model.batch_size
    n = len(gs.MUSCLES)
    fn = np.zeros((n, b)) if f_norm is None else f_norm
    ln = np.ones((n, b)) if l_norm is None else l_norm
    vn = np.zeros((n, b)) if v_norm is None else v_norm
    q = np.zeros((10, b))
    q[5] = q[8] = knee
    psi = np.zeros((10, b))
    psi[3] = -lean  # trunk absolute angle (backward +)
    grf = np.zeros((2, 2, b))
    grf[1, 0], grf[1, 1] = load[0] * model.body_weight, load[1] * model.body_weight
    return SimpleNamespace(q=q, qdot=np.zeros((10, b)), psi=psi, psidot=np.zeros((10, b)),
                           force=fn * model.muscles.f_max, fiber_length_norm=ln,
                           fiber_velocity=vn * model.muscles.v_max * model.muscles.l_opt, grf=grf,
                           sphere_pos=np.zeros((2, 2, 2, b)))


def _run(ctrl, model, sensors_seq):
    ctrl.bind_step(DT)  # what simulate does with its solver's step
    q0 = np.zeros((10, model.batch_size))
    q0[1] = 2.0  # start airborne: both legs in swing
    mem = ctrl.initial_memory(model, q0, np.zeros((10, model.batch_size)))
    outs = []
    for k, s in enumerate(sensors_seq):
        o = ctrl(k * DT, s, mem)
        mem = o.memory
        outs.append(o.excitation.copy())
    return np.array(outs), mem


def test_soleus_force_feedback_arrives_after_20_ms_in_stance():
    m = gs.build_model()
    ctrl = ReflexController(mode="geyer_herr")
    f = np.zeros((len(gs.MUSCLES), 1))
    f[MI["soleus_r"]] = 0.5
    seq = [_sensors(m, load=(1.0, 0.0))] * 100 + [_sensors(m, load=(1.0, 0.0), f_norm=f)] * 120
    out, _ = _run(ctrl, m, seq)
    g = ReflexGains()
    sol = out[:, MI["soleus_r"], 0]
    assert np.allclose(sol[60:100 + 80], g.S0)  # stance (after the 5 ms load delay), force not yet seen
    assert sol[100 + 80] == pytest.approx(g.S0 + g.G_SOL * 0.5)  # exactly 80 steps = 20 ms later
    assert out[-1, MI["soleus_l"], 0] == pytest.approx(g.S0)  # the unloaded leg is in swing


def test_pre_swing_keeps_a_fraction_of_the_calf_force_feedback():
    """Trunk-initiated pre-swing (pelvis 0.3 m ahead of the stance foot, the other leg loaded)
    releases the vasti's force feedback and keeps ``pre_swing_calf_keep`` of the calves'."""
    m = gs.build_model(batch_size=3)
    keep = np.array([0.0, 0.5, 1.0])
    ctrl = ReflexController(mode="trunk_initiated", gains={"pre_swing_calf_keep": keep})
    f = np.zeros((len(gs.MUSCLES), 3))
    f[MI["soleus_r"]] = f[MI["vasti_r"]] = 0.5
    stance = _sensors(m, load=(1.0, 0.0), f_norm=f)
    ahead = _sensors(m, load=(1.0, 0.5), f_norm=f)
    ahead.psi[0] = 0.3  # m: pelvis ahead of both feet (sphere_pos 0)
    out, _ = _run(ctrl, m, [stance] * 120 + [ahead] * 40)
    g = ReflexGains()
    sol, vas = out[-1, MI["soleus_r"]], out[-1, MI["vasti_r"]]
    np.testing.assert_allclose(sol, g.S0 + keep * g.G_SOL * 0.5)  # stance soleus law, F+ scaled
    assert out[119, MI["soleus_r"], 0] == pytest.approx(g.S0 + g.G_SOL * 0.5)  # full F+ before pre-swing
    np.testing.assert_allclose(vas, vas[0])  # the vasti are released alike
    assert np.all(vas < g.S0_VAS + g.G_VAS * 0.5 - 0.1)


def test_stance_detection_has_hysteresis():
    m = gs.build_model()
    ctrl = ReflexController(mode="geyer_herr")
    loads = [0.0] * 40 + [0.06] * 40 + [0.3] * 40 + [0.06] * 40 + [0.0] * 40
    out, _ = _run(ctrl, m, [_sensors(m, load=(x, 0.0), f_norm=np.full((20, 1), 0.2)) for x in loads])
    vas = out[:, MI["vasti_r"], 0]  # S0 in swing, S0_VAS + G_VAS F in stance
    g = ReflexGains()
    in_stance = vas > g.S0 + 1e-9
    assert not in_stance[:100].any()  # 0.06 BW is below stance_on
    assert in_stance[125:180].all()  # on at 0.3 BW and kept at 0.06 BW (above stance_off)
    assert not in_stance[190:].any()  # off below stance_off


def test_calf_stretch_reflex_can_be_blunted():
    m = gs.build_model()
    l = np.ones((len(gs.MUSCLES), 1))
    l[MI["soleus_r"]] = 1.2
    seq = [_sensors(m, load=(1.0, 0.0), l_norm=l)] * 120
    full, _ = _run(ReflexController(mode="geyer_herr"), m, seq)
    blunt, _ = _run(ReflexController(gains={"calf_stretch_gain": 0.0}, mode="geyer_herr"), m, seq)
    g = ReflexGains()
    diff = full[-1, MI["soleus_r"], 0] - blunt[-1, MI["soleus_r"], 0]
    assert diff == pytest.approx(g.calf_stretch_gain * (1.2 - g.l_off_CS))


def test_lumbar_extensors_answer_forward_lean():
    m = gs.build_model()
    out, _ = _run(ReflexController(), m, [_sensors(m, lean=0.4)] * 40)
    assert out[-1, MI["erector_spinae"], 0] > 0.3
    assert out[-1, MI["abdominals"], 0] == pytest.approx(ReflexGains().S0_L)  # pre-stimulation only
    out, _ = _run(ReflexController(), m, [_sensors(m, lean=-0.3)] * 40)
    assert out[-1, MI["abdominals"], 0] > out[-1, MI["erector_spinae"], 0]
    # G_ABS scales the abdominals' whole drive (pre-stimulation and flexing command)
    half, _ = _run(ReflexController(gains={"G_ABS": 0.5}), m, [_sensors(m, lean=-0.3)] * 40)
    assert half[-1, MI["abdominals"], 0] == pytest.approx(0.5 * out[-1, MI["abdominals"], 0])
    assert half[-1, MI["erector_spinae"], 0] == out[-1, MI["erector_spinae"], 0]
    # abs_tone scales only the abdominals' share of the pre-stimulation: with the trunk leaning
    # forward (flexing command zero) they fall from S0_L to abs_tone S0_L, the erector spinae unchanged
    quiet, _ = _run(ReflexController(gains={"abs_tone": 0.5, "S0_L": 0.1}), m, [_sensors(m, lean=0.4)] * 40)
    loud, _ = _run(ReflexController(gains={"S0_L": 0.1}), m, [_sensors(m, lean=0.4)] * 40)
    assert quiet[-1, MI["abdominals"], 0] == pytest.approx(0.05)
    assert loud[-1, MI["abdominals"], 0] == pytest.approx(0.1)
    assert quiet[-1, MI["erector_spinae"], 0] == loud[-1, MI["erector_spinae"], 0]
    # leaning back, the flexing command passes through unscaled by abs_tone
    back_q, _ = _run(ReflexController(gains={"abs_tone": 0.5, "S0_L": 0.1}), m, [_sensors(m, lean=-0.3)] * 40)
    back_l, _ = _run(ReflexController(gains={"S0_L": 0.1}), m, [_sensors(m, lean=-0.3)] * 40)
    assert back_l[-1, MI["abdominals"], 0] - back_q[-1, MI["abdominals"], 0] == pytest.approx(0.05)


def test_erector_spinae_double_support_drive():
    """G_ES_DS adds to the erector spinae while a leg trails in double support, and only then."""
    m = gs.build_model()
    seq = [_sensors(m, load=(1.0, 0.0))] * 80 + [_sensors(m, load=(1.0, 1.0))] * 80  # right stance, left lands
    off, _ = _run(ReflexController(mode="geyer_herr"), m, seq)
    on, _ = _run(ReflexController(gains={"G_ES_DS": 0.3}, mode="geyer_herr"), m, seq)
    es, ab = MI["erector_spinae"], MI["abdominals"]
    assert on[79, es, 0] == off[79, es, 0]  # single support: no drive
    assert on[-1, es, 0] - off[-1, es, 0] == pytest.approx(0.3)  # double support (after the 5 ms load delay)
    assert on[-1, ab, 0] == off[-1, ab, 0]  # the abdominals do not see it


def test_per_walker_gains_and_bad_input():
    m = gs.build_model(batch_size=3)
    ctrl = ReflexController(gains={"G_SOL": [0.5, 1.0, 2.0]})
    ctrl.bind_step(DT)
    ctrl.initial_memory(m, np.zeros((10, 3)), np.zeros((10, 3)))
    np.testing.assert_array_equal(ctrl.g["G_SOL"], [0.5, 1.0, 2.0])
    with pytest.raises(ValueError, match="unknown reflex gain 'G_XYZ'"):
        ReflexController(gains={"G_XYZ": 1.0}).initial_memory(m, None, None)
    with pytest.raises(ValueError, match="mode must be one of"):
        ReflexController(mode="clock")
    with pytest.raises(ValueError, match=r"G_SOL: expected a scalar or \(3,\)"):
        ReflexController(gains={"G_SOL": [1.0, 2.0]}).initial_memory(m, None, None)


def test_the_delay_lines_take_the_solvers_step():
    """The controller counts its delays in the step simulate hands it (``bind_step``); one built
    with a step refuses another; wrappers hand the step on; without a step there is no memory."""
    m = gs.build_model()
    x0 = gs.initial_state(m, gs.standing_pose(m, 0.0))
    q0, qd0 = x0[:, :10].T, x0[:, 10:20].T
    ctrl = ReflexController()
    assert ctrl.dt is None and ctrl.step_size is None and ctrl.memory_size == 0
    with pytest.raises(ValueError, match="no integration step yet"):
        ctrl.initial_memory(m, q0, qd0)
    sizes = {}
    for dt in (2.5e-4, 5e-4):
        res = gs.simulate(m, ctrl, duration=0.002, dt=dt, initial_state=x0, save=gs.SaveFinal())
        assert ctrl.step_size == dt and ctrl.line.steps.max() == round(0.020 / dt)  # 20 ms ankle delay
        sizes[dt] = res.final_state.shape[1]
    assert sizes[2.5e-4] - sizes[5e-4] == 40 * len(_ReflexController.SIGNALS)  # 81 vs 41 slots
    pinned = ReflexController(dt=5e-4)
    assert pinned.step_size == 5e-4 and pinned.memory_size > 0
    for wrapped in (pinned, gs.TrunkPush(pinned), gs.ExcitationOffset(pinned, {}),
                    CombinedController(pinned, ProfileController(np.full((len(gs.MUSCLES), 1), 0.01)))):
        with pytest.raises(ValueError, match=r"dt: the controller's delay lines count steps of ReflexController.dt"):
            gs.simulate(m, wrapped, duration=0.002, dt=2.5e-4, initial_state=x0)
    assert gs.simulate(m, pinned, duration=0.002, dt=5e-4, initial_state=x0).status_text() == ["ok"]


def test_reflex_walker_batch_equals_single_runs():
    from gaitsim.walking_start import walking_state

    m = gs.build_model(batch_size=3, scale={"muscle.max_isometric_force.soleus_*": [1.0, 0.8, 1.2]})
    x0 = walking_state(m, speed=[1.2, 1.3, 1.4])
    gains = {"G_SOL": [1.0, 1.2, 1.4], "k_trunk": [0.5, 1.0, 1.5]}
    save = gs.SaveEvery(20, ("q", "excitation"))
    batch = gs.simulate(m, ReflexController(gains=gains), duration=0.15, initial_state=x0, save=save)
    for i in range(3):
        single = gs.simulate(gs.select_walkers(m, i), ReflexController(gains={k: v[i] for k, v in gains.items()}),
                             duration=0.15, initial_state=x0[i:i + 1], save=save)
        np.testing.assert_allclose(single["q"][0], batch["q"][i], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(single["excitation"][0], batch["excitation"][i], rtol=1e-12, atol=1e-12)


def test_initial_phase_from_contact():
    from gaitsim.walking_start import walking_pose

    m = gs.build_model()
    q, _ = walking_pose(m)  # left foot on the ground behind, right heel 2 cm above it, about to strike
    stance, trailing = _ReflexController._initial_contact(m, q.T)
    assert stance[:, 0].tolist() == [0.0, 1.0]
    assert trailing[:, 0].tolist() == [0.0, 0.0]
    q[0, 1] -= 0.03  # lower the body: both feet down, the rear (left) leg trails
    stance, trailing = _ReflexController._initial_contact(m, q.T)
    assert stance[:, 0].tolist() == [1.0, 1.0] and trailing[:, 0].tolist() == [0.0, 1.0]


def test_a_failed_walker_does_not_disturb_the_others_delays():
    from gaitsim.walking_start import walking_state

    m = gs.build_model(batch_size=3, parameters={"body.gravity": [60.0, 9.80665, 9.80665]})  # walker 0 collapses
    x0 = walking_state(m)
    save = gs.SaveEvery(20, ("q", "excitation"))
    batch = gs.simulate(m, ReflexController(), duration=0.2, initial_state=x0, save=save, fall_height=0.85)
    assert batch.status.tolist()[0] != 0 and batch.status_time[0] < 0.1
    for i in (1, 2):
        single = gs.simulate(gs.select_walkers(m, i), ReflexController(), duration=0.2, initial_state=x0[i:i + 1],
                             save=save, fall_height=0.85)
        np.testing.assert_array_equal(single["excitation"][0], batch["excitation"][i])
