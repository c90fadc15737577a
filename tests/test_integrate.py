"""Batched integration: standing, dropping, batch equivalence, failure isolation, save policies."""

import dataclasses

import numpy as np
import pytest

import gaitsim as gs
from gaitsim.results import STATUS_DIVERGED, STATUS_FELL, STATUS_OK
from gaitsim.state import StateLayout


def _varied_batch(b, seed=0, extra_set=None):
    rng = np.random.default_rng(seed)
    return gs.build_model(
        batch_size=b,
        body_mass=rng.uniform(55, 95, b),
        height=rng.uniform(1.55, 1.95, b),
        scale={"muscle.tendon_slack_length.soleus_*": rng.uniform(0.9, 1.05, b),
               "muscle.passive_stiffness.psoas_*": rng.uniform(1.0, 3.0, b),
               "muscle.max_isometric_force": rng.uniform(0.8, 1.2, (b, len(gs.MUSCLES)))},
        parameters={"contact.slide_friction": rng.uniform(0.5, 0.9, b), **(extra_set or {})},
    ), rng


def test_held_model_settles_to_body_weight():
    m = gs.build_model()
    x0 = gs.initial_state(m, gs.standing_pose(m, 0.0))
    res = gs.simulate(m, gs.PoseHold(), duration=1.5, initial_state=x0, save=gs.SaveEvery(20, ("grf", "q")))
    assert res.status_text() == ["ok"]
    fy = res["grf"][0, :, :, 1].sum(axis=-1)  # both feet, vertical (N)
    late = res.time > 1.0
    assert np.abs(fy[late] / m.body_weight[0] - 1.0).max() < 0.01
    assert np.isclose(fy[late].mean(), m.body_weight[0], rtol=1e-3)


def test_drop_from_2cm_lands_without_blowing_up():
    m = gs.build_model()
    x0 = gs.initial_state(m, gs.standing_pose(m, 0.02))
    res = gs.simulate(m, gs.PoseHold(), duration=0.6, initial_state=x0, save=gs.SaveEvery(1, ("grf", "q", "qdot")))
    assert res.status_text() == ["ok"]
    fy = res["grf"][0, :, :, 1].sum(axis=-1) / m.body_weight[0]
    first = np.argmax(fy > 0)
    t_contact = res.time[first]
    assert t_contact == pytest.approx(np.sqrt(2 * 0.02 / 9.80665), abs=2e-3)  # free fall of 2 cm
    assert np.all(np.isfinite(res["q"])) and np.abs(res["qdot"]).max() < 5.0
    assert 1.5 < fy.max() < 20.0  # a stiff-legged landing, no numerical spike
    assert np.abs(fy[res.time > 0.45].mean() - 1.0) < 0.02  # settles under body weight


def test_batch_equals_single_runs():
    b = 64
    m, rng = _varied_batch(b)
    q = gs.standing_pose(m, 0.004)
    q[:, 4] += rng.normal(0, 0.1, b)  # hips and knees differ per walker
    q[:, 5] -= np.abs(rng.normal(0, 0.1, b))
    qd = np.zeros((b, 10))
    qd[:, 0] = rng.uniform(-0.3, 0.6, b)  # sliding contact exercises stick-slip
    x0 = gs.initial_state(m, q, qd, activation=rng.uniform(0.01, 0.3, (b, len(gs.MUSCLES))))
    ctrl = gs.ConstantExcitation(rng.uniform(0.01, 0.4, (b, len(gs.MUSCLES))))
    save = gs.SaveEvery(10, ("q", "muscle_force", "grf"))
    batch = gs.simulate(m, ctrl, duration=0.1, initial_state=x0, save=save)
    assert np.all(batch.status == STATUS_OK)
    assert batch["grf"][:, :, :, 1].max() > 0  # they do land
    for i in range(b):
        single = gs.simulate(gs.select_walkers(m, i), gs.ConstantExcitation(ctrl.level[i]), duration=0.1,
                             initial_state=x0[i:i + 1], save=save)
        for f in ("q", "muscle_force", "grf"):
            np.testing.assert_allclose(single[f][0], batch[f][i], rtol=1e-12, atol=1e-12)


def test_failing_walker_is_flagged_and_others_unchanged():
    m, _ = _varied_batch(4, seed=1)
    strain = m.params["muscle.tendon_reference_strain"].copy()
    strain[2, gs.MUSCLES.index("tib_ant_r")] = 1e-6  # walker 2: a near-rigid, explicitly coupled tendon
    force = m.params["muscle.max_isometric_force"].copy()
    force[2, gs.MUSCLES.index("tib_ant_r")] = 1e5
    bad, _ = _varied_batch(4, seed=1, extra_set={"muscle.tendon_reference_strain": strain,
                                                 "muscle.max_isometric_force": force})
    x0 = gs.initial_state(m, gs.standing_pose(m, 0.01))
    ctrl = gs.PoseHold(excitation=0.3)
    ok = gs.simulate(m, ctrl, duration=0.15, initial_state=x0, save=gs.SaveEvery(5, ("q",)))
    res = gs.simulate(bad, ctrl, duration=0.15, initial_state=x0, save=gs.SaveEvery(5, ("q",)))
    assert res.status[2] == STATUS_DIVERGED, res.status_text()
    assert 0.0 < res.status_time[2] < 0.15
    assert " at " in res.status_text()[2]
    keep = [0, 1, 3]
    assert np.all(res.status[keep] == STATUS_OK)
    np.testing.assert_array_equal(res["q"][keep], ok["q"][keep])
    assert np.all(np.isfinite(res.final_state[2]))  # frozen at its last finite state


def test_fall_is_flagged_with_time():
    m = gs.build_model(batch_size=2)
    x0 = gs.initial_state(m, gs.standing_pose(m, 0.01))
    ctrl = gs.ConstantExcitation([[0.01] * len(gs.MUSCLES), [0.01] * len(gs.MUSCLES)])
    res = gs.simulate(m, ctrl, duration=1.2, initial_state=x0, save=gs.SaveFinal(), fall_height=0.7)
    assert np.all(res.status == STATUS_FELL)  # passive muscles do not hold the body up
    assert np.all((res.status_time > 0.1) & (res.status_time < 1.2))
    assert res.data == {}


def test_save_policies_and_resume(tmp_path):
    m = gs.build_model()
    x0 = gs.initial_state(m, gs.standing_pose(m, 0.0))
    full = gs.simulate(m, gs.PoseHold(), duration=0.1, initial_state=x0, save=gs.SaveEvery(4, ("q",)))
    assert full["q"].shape == (1, 100, 10)
    first = gs.simulate(m, gs.PoseHold(), duration=0.05, initial_state=x0, save=gs.SaveEvery(4, ("q",)))
    second = gs.simulate(m, gs.PoseHold(), duration=0.05, initial_state=first.final_state, t0=first.t_end,
                         save=gs.SaveEvery(4, ("q",)))
    np.testing.assert_allclose(np.concatenate([first["q"], second["q"]], axis=1), full["q"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(second.time, full.time[50:], atol=1e-12)
    path = tmp_path / "run.npz"
    full.save(path)
    back = gs.Results.load(path)
    np.testing.assert_array_equal(back["q"], full["q"])
    assert back.params["muscle.max_isometric_force"].shape == (1, len(gs.MUSCLES))


def test_progress_is_reported():
    m = gs.build_model()
    seen = []
    gs.simulate(m, duration=0.02, progress=lambda done, total: seen.append((done, total)), save=gs.SaveFinal())
    assert len(seen) >= 50 and seen[-1][0] == pytest.approx(0.02)


def test_save_summary_matches_full_trajectory_and_skips_dead_time():
    m = gs.build_model(batch_size=2)
    x0 = gs.initial_state(m, gs.standing_pose(m, 0.01))
    ctrl = gs.PoseHold(stiffness=np.array(3000.0))
    full = gs.simulate(m, ctrl, duration=0.1, initial_state=x0, save=gs.SaveEvery(1, ("grf", "q")))
    summ = gs.simulate(m, gs.PoseHold(), duration=0.1, initial_state=x0, save=gs.SaveSummary(("grf", "q")))
    np.testing.assert_allclose(summ["grf/mean"], full["grf"].mean(axis=1), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(summ["q/max"], full["q"].max(axis=1))
    np.testing.assert_allclose(summ["q/min"], full["q"].min(axis=1))
    assert summ["samples"].tolist() == [400, 400]
    # a walker that falls stops contributing samples at its fall
    fall = gs.simulate(m, duration=1.2, initial_state=x0, save=gs.SaveSummary(("q",)), fall_height=0.8)
    assert np.all(fall.status == STATUS_FELL)
    np.testing.assert_allclose(fall["samples"], np.round(fall.status_time / gs.DEFAULT_DT), atol=1)


@pytest.mark.parametrize("bad", [-1, 21, 1.5, True, "3"])
def test_fiber_iterations_are_checked(bad):
    with pytest.raises(ValueError, match=r"fiber_iterations must be an integer in \[0, 20\]"):
        gs.SemiImplicitEuler(fiber_iterations=bad)


def test_backward_euler_fibres_solve_their_equation():
    """After a step with Newton fibres, l_new = l_old + dt v_ce(l_new, a_new, l_mtu(q_new)) holds: the
    residual falls with the iterations (quadratic convergence once close; 6 reach rounding) and the
    linearly implicit step leaves a far larger one. The rest of the state is the same."""
    from gaitsim import muscles as mus
    from gaitsim.model import path_geometry
    from gaitsim.tuned import healthy_walker

    model = gs.build_model(batch_size=2)
    ctrl, x0 = healthy_walker(model)
    walked = gs.simulate(model, ctrl, duration=0.3, initial_state=x0, save=gs.SaveFinal())
    dt = gs.DEFAULT_DT
    residual = {}
    for k in (0, 2, 4, 6):
        res = gs.simulate(model, ctrl, duration=dt, dt=dt, initial_state=walked.final_state, t0=walked.t_end,
                          save=gs.SaveFinal(), solver=gs.SemiImplicitEuler(fiber_iterations=k))
        x0_, x1 = walked.final_state.T, res.final_state.T
        blk = StateLayout(x1.shape[0] - StateLayout(0).size).blocks
        l_mtu, _ = path_geometry(model.paths, x1[blk["q"]])
        _, v, _, _, _ = mus.fiber_dynamics(x1[blk["fiber_length"]], x1[blk["activation"]], l_mtu, model.muscles)
        r = x1[blk["fiber_length"]] - x0_[blk["fiber_length"]] - dt * v
        residual[k] = np.abs(r).max()
        if k == 0:
            first = res.final_state
        else:
            other = np.ones(first.shape[1], dtype=bool)
            other[blk["fiber_length"]] = False
            np.testing.assert_array_equal(res.final_state[:, other], first[:, other])
    print("backward-Euler residual (m):", residual)
    assert residual[0] > residual[2] > residual[4] > residual[6]
    assert residual[6] < 1e-10


def test_normal_contact_option_is_checked():
    with pytest.raises(ValueError, match="normal_contact must be one of"):
        gs.SemiImplicitEuler(normal_contact="lcp")


def _ball_flickers(normal_contact: str, duration: float = 1.5, damping_velocity: float = 0.03) -> int:
    """Times a ball sphere touches the ground again within 20 ms of its toe-off, its lift-off after
    at least 100 ms on the ground (walking, 0.25 ms, after the landing from the initial state). A
    touchdown bounce (a short contact after a swing) is not counted. ``damping_velocity``: the
    contact's v_n (m/s); Geyer & Herr's 0.03, where the explicit clip chatters, by default."""
    from gaitsim.compiled import available
    from gaitsim.tuned import healthy_walker

    backend = "numba" if available() else "numpy"
    model = gs.build_model(batch_size=1, parameters={"contact.normal_damping_velocity": damping_velocity})
    ctrl, x0 = healthy_walker(model, backend=backend)
    res = gs.simulate(model, ctrl, duration=duration, initial_state=x0, save=gs.SaveEvery(1, ("contact_force",)),
                      solver=gs.SemiImplicitEuler(backend=backend, normal_contact=normal_contact))
    assert res.status_text() == ["ok"]
    window, stance = round(0.02 / gs.DEFAULT_DT), round(0.1 / gs.DEFAULT_DT)
    count = 0
    for sphere in (1, 3):  # ball_r, ball_l
        on = (res["contact_force"][0, res.time > 0.2, sphere, 1] > 0.0).astype(int)  # after the first landing
        offs, ons = np.flatnonzero(np.diff(on) == -1), np.flatnonzero(np.diff(on) == 1)
        toe_offs = [o for o in offs if o >= stance and on[o - stance + 1:o + 1].all()]
        count += sum(int(np.count_nonzero((ons > o) & (ons <= o + window))) for o in toe_offs)
    return count


def test_active_set_contact_removes_toe_off_chatter():
    """With Geyer & Herr's contact damping (v_n = 0.03 m/s, the default until gaitsim 0.7) and the
    clip of the normal law taken at the start of the step, a ball sphere lifting off chatters on
    and off the ground step by step (about ten times per toe-off); with the active set it leaves
    the ground once. With the 0.8 default (1/3 m/s) neither chatters."""
    explicit, active_set = _ball_flickers("explicit"), _ball_flickers("active_set")
    print("ball-sphere flickers in 1.5 s: explicit", explicit, "active set", active_set)
    assert explicit >= 10
    assert active_set == 0
    assert _ball_flickers("explicit", damping_velocity=1.0 / 3.0) == 0


@pytest.mark.parametrize("bad", [0, 17, 2.0, True, "4"])
def test_mechanics_substeps_are_checked(bad):
    with pytest.raises(ValueError, match=r"mechanics_substeps must be an integer in \[1, 16\]"):
        gs.SemiImplicitEuler(mechanics_substeps=bad)


@pytest.mark.parametrize("bad", [0.4, 1.1, float("nan"), True, "0.5"])
def test_damping_theta_is_checked(bad):
    with pytest.raises(ValueError, match=r"damping_theta must be a number in \[0.5, 1.0\]"):
        gs.SemiImplicitEuler(damping_theta=bad)


def test_mechanics_substeps_batch_equals_single_runs():
    """Multirate steps do not mix walkers: a varied batch of 6 landing walkers gives each single run."""
    b = 6
    m, rng = _varied_batch(b, seed=3)
    q = gs.standing_pose(m, 0.004)
    qd = np.zeros((b, 10))
    qd[:, 0] = rng.uniform(-0.3, 0.6, b)
    x0 = gs.initial_state(m, q, qd, activation=rng.uniform(0.01, 0.3, (b, len(gs.MUSCLES))))
    ctrl = gs.ConstantExcitation(rng.uniform(0.01, 0.4, (b, len(gs.MUSCLES))))
    solver = gs.SemiImplicitEuler(mechanics_substeps=3)
    save = gs.SaveEvery(5, ("q", "grf"))
    batch = gs.simulate(m, ctrl, duration=0.06, dt=5e-4, initial_state=x0, save=save, solver=solver)
    assert np.all(batch.status == STATUS_OK) and batch["grf"][:, :, :, 1].max() > 0
    for i in (0, 5):
        single = gs.simulate(gs.select_walkers(m, i), gs.ConstantExcitation(ctrl.level[i]), duration=0.06, dt=5e-4,
                             initial_state=x0[i:i + 1], save=save, solver=solver)
        for f in ("q", "grf"):
            np.testing.assert_allclose(single[f][0], batch[f][i], rtol=1e-12, atol=1e-12)


@pytest.mark.slow
def test_mechanics_substeps_follow_the_substep_in_the_mechanics():
    """With the muscles off, a multirate step of dt with n sub-steps is n plain steps of dt/n (the
    mechanics are all there is), bit for bit; with muscles on it stays close to them on a drop."""
    m = gs.build_model(muscles=False)
    x0 = gs.initial_state(m, gs.standing_pose(m, 0.02))
    save = gs.SaveEvery(4, ("q", "qdot"))
    multi = gs.simulate(m, duration=0.2, dt=4e-4, initial_state=x0, save=gs.SaveEvery(1, ("q", "qdot")),
                        solver=gs.SemiImplicitEuler(mechanics_substeps=4))
    plain = gs.simulate(m, duration=0.2, dt=1e-4, initial_state=x0, save=save)
    np.testing.assert_array_equal(multi["q"], plain["q"])
    np.testing.assert_array_equal(multi["qdot"], plain["qdot"])

    m = gs.build_model()
    x0 = gs.initial_state(m, gs.standing_pose(m, 0.02))
    run = lambda dt, n: gs.simulate(m, gs.PoseHold(), duration=0.3, dt=dt, initial_state=x0,  # noqa: E731
                                    save=gs.SaveEvery(int(round(4e-3 / dt)), ("q",)),
                                    solver=gs.SemiImplicitEuler(mechanics_substeps=n))["q"][0]
    fine, coarse, multi = run(1.25e-4, 1), run(5e-4, 1), run(5e-4, 4)
    err_multi, err_coarse = np.abs(multi - fine).max(), np.abs(coarse - fine).max()
    print(f"drop, max |q - q(0.125 ms)|: 0.5 ms {err_coarse:.3g}, 0.5 ms with 4 sub-steps {err_multi:.3g}")
    assert err_multi < 0.5 * err_coarse


def test_the_step_state_holds_the_step_and_what_the_steps_reuse():
    """``init`` makes the run's ``StepState`` (the step, the activation decay; no compiled arrays on
    numpy); ``step`` takes it and hands it on, and a step by hand is the step simulate takes."""
    m = gs.build_model(batch_size=2)
    x0 = np.ascontiguousarray(gs.initial_state(m, gs.standing_pose(m, 0.0)).T)
    solver = gs.SemiImplicitEuler(backend="numpy")
    assert "order" not in {f.name for f in dataclasses.fields(solver)}
    state = solver.init(m, x0, 5e-4)
    assert state.dt == 5e-4 and state.workspace is None and state.trig is None
    np.testing.assert_array_equal(state.activation_decay, np.exp(-5e-4 / m.muscles.tau_act))
    ctrl = gs.PoseHold()
    memory = ctrl.initial_memory(m, x0[0:10], x0[10:20])
    new, forces, out, after = solver.step(m, 0.0, x0, memory, ctrl, state)
    assert after is state and new.shape == x0.shape and out.torque.shape == (10, 2)
    np.testing.assert_array_equal(forces.q, x0[0:10])
    res = gs.simulate(m, gs.PoseHold(), duration=5e-4, dt=5e-4, initial_state=x0.T, save=gs.SaveFinal(), solver=solver)
    np.testing.assert_array_equal(res.final_state[:, :x0.shape[0]], new.T)
