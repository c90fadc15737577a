"""The shipped tuned walker, at reduced length (full 60 s figures: examples/evaluate_gait.py)."""

import numpy as np
import pytest

import gaitsim as gs
from gaitsim import analysis
from gaitsim.optimize import Objective, SearchSpace, evaluate
from gaitsim.tuned import healthy_walker, load_tuned


@pytest.fixture(scope="module")
def walk():
    model = gs.build_model()
    ctrl, x0 = healthy_walker(model)
    res = gs.simulate(model, ctrl, duration=5.0, initial_state=x0, save=gs.SaveEvery(8, ("q", "grf", "activation")))
    return model, res


def test_shipped_parameters_have_provenance():
    sol = load_tuned("trunk_initiated")
    prov = sol["provenance"]
    for key in ("objective", "seed", "generations", "command", "popsize"):
        assert key in prov
    gh = load_tuned("geyer_herr")["provenance"]
    for key in ("objective", "seed", "generations", "command", "popsize", "search_base"):
        assert key in gh
    with pytest.raises(ValueError, match="mode must be one of"):
        load_tuned("clock_driven")


def test_shipped_walker_walks_steadily_at_the_target_speed(walk):
    model, res = walk
    assert res.status_text() == ["ok"]
    bw = model.body_weight[0]
    late = res.time > 1.0  # skip the start-up step
    t = res.time[late]
    st = analysis.spatiotemporal(t, res["q"][0, late, 0], res["grf"][0, late, 0, 1], res["grf"][0, late, 1, 1], bw)
    assert st["strides"] >= 3
    assert 1.1 <= st["speed"] <= 1.5  # m/s, issue target
    assert 95 <= st["cadence"] <= 125  # steps/min, issue target
    assert st["stride_time_cv_pct"] < 3.0


def test_soleus_is_active_in_stance(walk):
    model, res = walk
    bw = model.body_weight[0]
    ev = analysis.gait_events(res.time, res["grf"][0, :, 0, 1], bw)
    prof, _ = analysis.mean_sd(analysis.cycles(res.time, res.muscle("activation", "soleus_r")[0], ev.strikes[1:]))
    from gaitsim.data.emg_onoff import ON_WINDOWS_PCT

    assert analysis.onoff_agreement(prof, ON_WINDOWS_PCT["soleus"]) > 0.8


def test_a_cma_generation_of_64_runs_as_one_batch():
    sp = SearchSpace(mode="trunk_initiated")
    x = np.random.default_rng(0).normal(0.0, 0.3, (64, sp.dimension))
    out = evaluate(x, sp, Objective(duration=0.1))
    assert out["cost"].shape == (64,) and np.all(np.isfinite(out["cost"]))


def _backend():
    from gaitsim.compiled import available

    return "numba" if available() else "numpy"  # same results (tests/test_compiled.py); numba is faster


def test_shipped_geyer_herr_walker_has_a_double_hump_and_late_push_off():
    """The leg-driven walker settles within about 7 s; its strides after that (of 12 s) are checked
    against the issue's ground-force and push-off targets (full 60 s figures: evaluate_gait.py)."""
    backend = _backend()
    model = gs.build_model()
    ctrl, x0 = healthy_walker(model, mode="geyer_herr", backend=backend)
    res = gs.simulate(model, ctrl, duration=12.0, initial_state=x0, solver=gs.SemiImplicitEuler(backend=backend),
                      save=gs.SaveEvery(8, ("q", "qdot", "grf", "muscle_moment")))
    assert res.status_text() == ["ok"]
    bw, mass = model.body_weight[0], model.skeleton.mass_total[0]
    late = res.time > 7.0
    t = res.time[late]
    fy_r = res["grf"][0, late, 0, 1]
    st = analysis.spatiotemporal(t, res["q"][0, late, 0], fy_r, res["grf"][0, late, 1, 1], bw)
    assert st["strides"] >= 3 and st["stride_time_cv_pct"] < 3.0
    assert 95 <= st["cadence"] <= 125
    strikes = analysis.gait_events(t, fy_r, bw).strikes
    grf, _ = analysis.mean_sd(analysis.cycles(t, fy_r / bw, strikes))
    first = int(np.argmax(grf[:35]))
    second = 35 + int(np.argmax(grf[35:65]))
    assert 1.0 <= grf[first] <= 1.35 and 1.0 <= grf[second] <= 1.35  # body weights, issue target
    assert grf[first:second + 1].min() <= min(grf[first], grf[second]) - 0.1
    ia = gs.COORDINATES.index("ankle_angle_r")
    power = res["muscle_moment"][0, late, ia] * res["qdot"][0, late, ia] / mass  # W/kg
    p, _ = analysis.mean_sd(analysis.cycles(t, power, strikes))
    assert p.max() >= 1.0  # W/kg, issue target
    assert 45.0 <= analysis.PERCENT[int(p.argmax())] <= 65.0  # push-off at the end of stance
