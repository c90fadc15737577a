"""The optional numba backend agrees with the numpy reference (skipped without numba)."""

import dataclasses

import numpy as np
import pytest

import gaitsim as gs
from gaitsim import dynamics
from gaitsim.reflex import ReflexController, ReflexGains
from gaitsim.state import StateLayout
from gaitsim.tuned import load_tuned, tuned_solver, walker_from_solutions

compiled = pytest.importorskip("gaitsim.compiled")
if not compiled.available():
    pytest.skip("numba not installed", allow_module_level=True)


def _walking_states(b=8, seconds=0.4, **build):
    """States of b slightly different walkers after ``seconds`` of walking (feet on and off the ground)."""
    rng = np.random.default_rng(3)
    model = gs.build_model(batch_size=b, body_mass=rng.uniform(55, 90, b), **build)
    ctrl, x0 = walker_from_solutions(model, load_tuned("trunk_initiated"))
    res = gs.simulate(model, ctrl, duration=seconds, initial_state=x0, save=gs.SaveFinal())
    x = np.ascontiguousarray(res.final_state.T)
    blk = StateLayout(x.shape[0] - StateLayout(0).size).blocks
    args = (x[blk["q"]], x[blk["qdot"]], x[blk["activation"]], x[blk["fiber_length"]],
            x[blk["anchor"]].reshape(2, 2, b), x[blk["mode"]].reshape(2, 2, b))
    return model, args, rng


@pytest.mark.parametrize("options,b", [({}, 8), ({"friction": "regularized"}, 8),
                                       ({"muscles": False, "joint_limits": False}, 8), ({}, 64)])
def test_forces_and_accelerations_match_numpy(options, b):
    """b = 64: the compiled outputs have padded rows (compiled row_length) and come back as views."""
    model, args, rng = _walking_states(b)
    if options:
        model = dataclasses.replace(model, options=dataclasses.replace(model.options, **options))
    ref = dynamics.evaluate_forces(model, *args)
    got = compiled.evaluate_forces(model, *args)
    assert (ref.fn > 0).any() and (ref.fn == 0).any()  # the states exercise contact and flight
    assert (got.padded is not None) == (b % 64 == 0)
    for f in dataclasses.fields(ref):
        if f.name == "padded":
            continue
        a, c = np.asarray(getattr(ref, f.name)), np.asarray(getattr(got, f.name))
        assert a.shape == c.shape, f.name
        np.testing.assert_allclose(c, a, rtol=1e-12, atol=1e-12, err_msg=f.name)
    torque, damping = rng.normal(0, 5, (10, b)), rng.uniform(0, 2, (10, b))
    for dt in (0.0, gs.DEFAULT_DT):
        want = dynamics.accelerations(model, ref, torque, damping, dt)
        for fs in (ref, got):
            have = compiled.accelerations(model, fs, torque, damping, dt)
            np.testing.assert_allclose(have, want, rtol=1e-9, atol=1e-9 * np.abs(want).max())


def test_compiled_sin_cos_equal_numpy_bit_for_bit():
    """The kernels' sine and cosine (``physics._sin_cos``) are ``gaitsim.trig.sin_cos`` operation for
    operation, so both backends start from the same trigonometry."""
    import numba

    from gaitsim.compiled.physics import _sin_cos
    from gaitsim.trig import sin_cos

    @numba.njit
    def both(x, s, c):
        for i in range(x.size):
            s[i], c[i] = _sin_cos(x[i])

    x = np.concatenate([np.linspace(-30.0, 30.0, 200_001), np.random.default_rng(2).uniform(-1e4, 1e4, 10_000)])
    s, c = np.empty_like(x), np.empty_like(x)
    both(x, s, c)
    ref_s, ref_c = sin_cos(x)
    np.testing.assert_array_equal(s, ref_s)
    np.testing.assert_array_equal(c, ref_c)


def test_forces_take_the_fibre_updates_cos_and_sin_bit_for_bit():
    """``fiber_newton`` returns cos q and sin q of the state it updates; the next force evaluation
    takes them instead of computing them again (``SemiImplicitEuler.step``'s ``StepState.trig``)."""
    from gaitsim.trig import sin_cos

    model, args, _ = _walking_states(8)
    q = args[0]
    fresh = compiled.evaluate_forces(model, *args)
    sin, cos = sin_cos(q)
    reused = compiled.evaluate_forces(model, *args, trig=(cos, sin))
    for f in dataclasses.fields(fresh):
        if f.name != "padded":
            np.testing.assert_array_equal(getattr(reused, f.name), getattr(fresh, f.name), err_msg=f.name)
    wrong = compiled.evaluate_forces(model, *args, trig=(np.cos(q + 0.01), np.sin(q + 0.01)))
    assert not np.array_equal(wrong.moment_arms, fresh.moment_arms)  # the argument is really used


@pytest.mark.parametrize("mode,extra,duration", [
    ("trunk_initiated", {}, 0.5), ("trunk_initiated", {"pre_swing_calf_keep": 0.15}, 0.5), ("geyer_herr", {}, 0.5),
    ("geyer_herr", {"G_ES_DS": 0.2}, 0.7)])  # the first double support begins at about 0.51 s
def test_walking_run_matches_numpy_to_1e9(mode, extra, duration):
    """Physics and reflex law compiled: 0.5-0.7 s of walking (two gait-phase changes per leg) agree."""
    model = gs.build_model(batch_size=2)
    sol = dict(load_tuned("trunk_initiated"), mode=mode)
    sol["gains"] = dict(sol["gains"], **extra)
    runs = []
    for backend in ("numpy", "numba"):
        ctrl, x0 = walker_from_solutions(model, sol, backend=backend)
        runs.append(gs.simulate(model, ctrl, duration=duration, initial_state=x0,
                                save=gs.SaveEvery(40, ("q", "muscle_force", "excitation")),
                                solver=gs.SemiImplicitEuler(backend=backend)))
    assert runs[0].status_text() == runs[1].status_text()
    np.testing.assert_allclose(runs[1]["q"], runs[0]["q"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(runs[1]["excitation"], runs[0]["excitation"], rtol=0, atol=1e-9)
    f0 = runs[0]["muscle_force"]
    np.testing.assert_allclose(runs[1]["muscle_force"], f0, rtol=0, atol=1e-9 * np.abs(f0).max())
    np.testing.assert_allclose(runs[1].final_state, runs[0].final_state, rtol=0, atol=1e-9)  # incl. delay lines


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="SemiImplicitEuler.backend must be one of auto, numpy, numba"):
        gs.SemiImplicitEuler(backend="cuda")
    with pytest.raises(ValueError, match="ReflexController.backend must be one of auto, numpy, numba"):
        ReflexController(backend="cuda")


def test_auto_backend_resolves_to_numba_when_it_imports():
    from gaitsim.compiled import resolve_backend

    assert gs.SemiImplicitEuler().backend == "numba"  # this module runs only where numba imports
    assert ReflexController().backend == "numba"
    assert resolve_backend("numpy") == "numpy" and gs.SemiImplicitEuler(backend="numpy").backend == "numpy"


def test_a_batch_equals_single_runs():
    """The kernels vectorize across walkers (SIMD body and scalar remainder loops); a batch of 5
    different walkers must still give each walker's single-run result exactly."""
    sols = [load_tuned("geyer_herr"), load_tuned("trunk_initiated")]
    sols = [dict(sols[i % 2], mode="geyer_herr") for i in range(5)]
    scale = np.array([0.9, 1.0, 1.1, 0.95, 1.05])  # per-walker soleus strength
    model = gs.build_model(batch_size=5, scale={"muscle.max_isometric_force.soleus_*": scale})
    ctrl, x0 = walker_from_solutions(model, sols, backend="numba")
    solver = gs.SemiImplicitEuler(backend="numba")
    batch = gs.simulate(model, ctrl, duration=0.3, initial_state=x0, save=gs.SaveFinal(), solver=solver)
    for i in range(5):
        one = gs.build_model(batch_size=1, scale={"muscle.max_isometric_force.soleus_*": scale[i:i + 1]})
        c1, x1 = walker_from_solutions(one, sols[i], backend="numba")
        single = gs.simulate(one, c1, duration=0.3, initial_state=x1, save=gs.SaveFinal(), solver=solver)
        np.testing.assert_array_equal(batch.final_state[i], single.final_state[0])


def test_padded_rows_do_not_change_results():
    """At B = 64 the kernels use padded rows (compiled row_length), at B = 65 they do not: the first
    64 walkers must come out the same, bit for bit."""
    sol = dict(load_tuned("trunk_initiated"))
    scale = np.linspace(0.9, 1.1, 65)  # per-walker soleus strength
    finals = []
    for b in (64, 65):
        model = gs.build_model(batch_size=b, scale={"muscle.max_isometric_force.soleus_*": scale[:b]})
        ctrl, x0 = walker_from_solutions(model, sol, backend="numba")
        res = gs.simulate(model, ctrl, duration=0.3, initial_state=x0, save=gs.SaveFinal(),
                          solver=gs.SemiImplicitEuler(backend="numba"))
        finals.append(res.final_state)
    np.testing.assert_array_equal(finals[0], finals[1][:64])


def test_integrator_options_match_numpy_single_runs_and_padded_rows():
    """Both integrator options (Newton fibres, contact active set) compiled: 0.3 s of walking agree
    with numpy to 1e-9; a batch gives each walker's single run exactly; and at B = 64 (padded
    rows, where the active set's second solve takes padded force arrays) the first 64 walkers
    equal those of B = 65."""
    sol = load_tuned("trunk_initiated")
    options = {"fiber_iterations": 3, "normal_contact": "active_set"}
    scale = np.linspace(0.9, 1.1, 65)  # per-walker soleus strength

    def run(b, backend, first=0):
        model = gs.build_model(batch_size=b, scale={"muscle.max_isometric_force.soleus_*": scale[first:first + b]})
        ctrl, x0 = walker_from_solutions(model, sol, backend=backend)
        return gs.simulate(model, ctrl, duration=0.3, initial_state=x0, save=gs.SaveFinal(),
                           solver=gs.SemiImplicitEuler(backend=backend, **options)).final_state

    small = run(3, "numba")
    np.testing.assert_allclose(small, run(3, "numpy"), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(small[2], run(1, "numba", first=2)[0])
    np.testing.assert_array_equal(run(64, "numba"), run(65, "numba")[:64])


def test_mechanics_substeps_match_numpy_single_runs_and_padded_rows():
    """The multirate step compiled (forces without muscles in the sub-steps): 0.3 s of walking with
    the shipped walker's integrator (0.5 ms, 4 sub-steps, trapezoidal damping) agree with numpy to
    1e-9; a batch gives a walker's single run exactly; padded rows (B = 64) give the first 64
    walkers of B = 65."""
    sol = load_tuned("trunk_initiated")
    scale = np.linspace(0.9, 1.1, 65)  # per-walker soleus strength
    dt = 5e-4

    def run(b, backend, first=0):
        model = gs.build_model(batch_size=b, scale={"muscle.max_isometric_force.soleus_*": scale[first:first + b]})
        ctrl, x0 = walker_from_solutions(model, sol, backend=backend)
        return gs.simulate(model, ctrl, duration=0.3, dt=dt, initial_state=x0, save=gs.SaveFinal(),
                           solver=tuned_solver(sol, backend)).final_state

    small = run(3, "numba")
    np.testing.assert_allclose(small, run(3, "numpy"), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(small[2], run(1, "numba", first=2)[0])
    np.testing.assert_array_equal(run(64, "numba"), run(65, "numba")[:64])


def test_forces_without_muscles_leave_the_rest_unchanged():
    """``evaluate_forces(muscles=False)`` (the multirate sub-steps): muscle fields zero, every other
    field as with muscles, compiled and numpy alike."""
    from gaitsim.dynamics import evaluate_forces

    model, args, _ = _walking_states(8)
    for forces in (evaluate_forces, compiled.evaluate_forces):
        full, bare = forces(model, *args), forces(model, *args, muscles=False)
        for f in dataclasses.fields(full):
            name = f.name
            if name in ("padded", "q", "qdot"):
                continue
            if name in ("mtu_length", "moment_arms", "force", "fiber_velocity", "dv_dl", "fl", "fiber_length_norm",
                        "muscle_moment"):
                assert not getattr(bare, name).any(), name
            else:
                np.testing.assert_array_equal(getattr(bare, name), getattr(full, name), err_msg=name)


def test_substep_kernel_equals_the_python_loop_of_kernels(monkeypatch):
    """The compiled sub-steps run in one kernel call (``compiled.mechanics_substeps``); the same
    sub-steps as a Python loop over the compiled force, solve and active-set kernels
    (``SemiImplicitEuler._substep_loop``) give the same numbers bit for bit (8 walkers, 0.3 s of
    walking: contact active sets change on the way, so the kernel's subset re-solve is exercised)."""
    sol = load_tuned("trunk_initiated")
    dt = 5e-4

    def run():
        model = gs.build_model(batch_size=8, scale={"muscle.max_isometric_force.soleus_*": np.linspace(0.9, 1.1, 8)})
        ctrl, x0 = walker_from_solutions(model, sol, backend="numba")
        return gs.simulate(model, ctrl, duration=0.3, dt=dt, initial_state=x0, save=gs.SaveEvery(10, ("q", "grf")),
                           solver=tuned_solver(sol, "numba"))

    fused = run()
    solver = tuned_solver(sol, "numba")

    def loop(model, forces, out, activation, fiber_length, h, n_sub, active_set, damping_step, workspace=None):
        return solver._substep_loop(model, forces, out, activation, fiber_length, h, compiled.evaluate_forces,
                                    compiled.accelerations, compiled.normal_contact_active_set)

    monkeypatch.setattr(compiled, "mechanics_substeps", loop)
    looped = run()
    np.testing.assert_array_equal(fused["q"], looped["q"])
    np.testing.assert_array_equal(fused["grf"], looped["grf"])
    np.testing.assert_array_equal(fused.final_state, looped.final_state)


def test_compiled_walker_health_equals_numpy():
    """The one-pass compiled check flags the same walkers as numpy's reductions: non-finite entries
    anywhere, speeds at or beyond MAX_SPEED, pelvis below the fall height, and overflowing sums."""
    from gaitsim.integrate import MAX_SPEED, walker_health

    rng = np.random.default_rng(5)
    n_phys, b = StateLayout(0).size, 41
    qd_rows = StateLayout(0).blocks["qdot"]
    flagged = 0
    for _ in range(100):
        new = rng.normal(0.0, 1.0, (n_phys, b))
        new[qd_rows] *= rng.choice([1.0, 0.5 * MAX_SPEED, 2.0 * MAX_SPEED], size=(10, b), p=[0.9, 0.05, 0.05])
        new[1] = rng.uniform(0.3, 1.1, b)
        for _ in range(3):
            new[rng.integers(n_phys), rng.integers(b)] = rng.choice([np.nan, np.inf, -np.inf, 1e308, MAX_SPEED])
        with np.errstate(over="ignore", invalid="ignore"):  # the sums overflow on purpose
            want = walker_health(new, qd_rows, 0.4)
        have = compiled.walker_health(new, qd_rows, 0.4)
        np.testing.assert_array_equal(have[0], want[0])
        np.testing.assert_array_equal(have[1], want[1])
        flagged += int(want[1].sum())
    assert 0 < flagged < 100 * b  # the cases exercise both outcomes


def test_reused_step_arrays_give_the_same_steps_as_fresh_arrays():
    """The compiled step writes its forces and new state into two sets of arrays of its step state,
    used in turn (``compiled.StepWorkspace``); stepping so must give the same states, bit for bit,
    as steps that allocate new arrays, and a returned state must stay intact through the next step."""
    b, dt = 64, 5e-4  # padded rows
    sol = load_tuned("trunk_initiated")
    model = gs.build_model(batch_size=b, body_mass=np.linspace(60.0, 85.0, b))
    ctrl, x0 = walker_from_solutions(model, sol, backend="numba")
    solver = tuned_solver(sol, "numba")
    start = np.ascontiguousarray(x0.T)
    copies = {}
    for reuse in (True, False):
        x = start.copy()
        state = solver.init(model, x, dt, reuse_arrays=reuse)
        assert state.dt == dt and (state.workspace is not None) == reuse
        ctrl.bind_step(state.dt)
        blocks = state.blocks
        mem = ctrl.initial_memory(model, x[blocks["q"]], x[blocks["qdot"]])
        ids, saved = set(), []
        for n in range(40):
            previous = x
            x, forces, out, state = solver.step(model, n * dt, x, mem, ctrl, state)
            if n >= 1:
                np.testing.assert_array_equal(previous, saved[-1])  # the state before is still intact
            ids.add(id(x))
            saved.append(x.copy())
        copies[reuse] = saved
        if reuse:
            assert len(ids) == 2  # the two state arrays of the workspace, used in turn
    for reused, fresh in zip(copies[True], copies[False]):
        np.testing.assert_array_equal(reused, fresh)


def test_kernel_names_match_the_controller():
    """The compiled reflex law reads gains by name (``GAIN``, made from ``ReflexGains``) and writes
    signal rows by position; the positions are the controller's names (the kernel module does not
    import the controller)."""
    from gaitsim.compiled import reflex as kernel

    assert kernel.ReflexGainIndex._fields == ReflexGains.names()
    assert kernel._KERNEL_SIGNAL_ORDER == tuple(n for n, _ in ReflexController.SIGNALS)
    with pytest.raises(ValueError, match="gains missing"):
        kernel.reflex_inputs({"S0": np.ones(1)}, True, np.ones((20, 1)), np.ones((20, 1)), np.ones(1),
                             np.zeros(36, dtype=int), 1, 1)
    gains = {name: np.full(3, float(i)) for i, name in enumerate(ReflexGains.names())}
    inputs = kernel.reflex_inputs(gains, True, np.ones((20, 3)), np.ones((20, 3)), np.ones(3),
                                  np.ones(36, dtype=int), 2, 72)
    assert inputs.gains[kernel.GAIN.k_trunk, :3].tolist() == [ReflexGains.names().index("k_trunk")] * 3


def test_kernel_records_are_assembled_by_name():
    """The force kernel's records take each model array by its name (``compiled.records``)."""
    from gaitsim.compiled.records import ForceArrays, model_record, plain

    model = gs.build_model(batch_size=2)
    record = model_record(model)
    assert record.contact.slide_friction is model.contact.slide_friction
    assert record.muscles.tendon_stiffness is model.muscles.tendon_stiffness
    assert record.skeleton.A_diag is model.skeleton.A_diag and record.limits.w_max is model.limits.w_max
    assert ForceArrays._fields == tuple(f.name for f in dataclasses.fields(dynamics.ForceState))[2:-1]
    flat = plain(record)
    assert type(flat) is tuple and type(flat[3]) is tuple and flat[3][8] is model.contact.slide_friction
