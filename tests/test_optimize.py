"""CMA-ES tuning plumbing: decoding, one batched generation, checkpoint and resume."""

import numpy as np
import pytest

from gaitsim.optimize import Objective, SearchSpace, evaluate, tune
from gaitsim.reflex import ReflexGains


def test_decode_zero_is_the_base_point():
    sp = SearchSpace(mode="trunk_initiated")
    gains, start = sp.decode(np.zeros((2, sp.dimension)))
    g = ReflexGains()
    for name in sp.gains:
        np.testing.assert_allclose(gains[name], getattr(g, name))
    assert all(np.all(v == 0) for v in start["pose_offsets"].values())
    np.testing.assert_allclose(start["speed"], 1.3)
    x = np.zeros((1, sp.dimension))
    x[0, sp.gains.index("G_SOL")] = np.log(2.0)
    assert sp.decode(x)[0]["G_SOL"][0] == pytest.approx(2 * g.G_SOL)  # log-scaled gains stay positive


def test_evaluate_population_as_one_batch_and_costs():
    sp = SearchSpace(mode="geyer_herr")
    ob = Objective(duration=0.2)
    X = np.zeros((3, sp.dimension))
    X[1, sp.gains.index("G_SOL")] = np.log(3.0)
    out = evaluate(X, sp, ob)
    assert out["cost"].shape == (3,) and np.all(np.isfinite(out["cost"]))
    assert np.all(out["alive"] == pytest.approx(0.2))  # nobody falls in 0.2 s
    assert out["cost"][1] != out["cost"][0]
    np.testing.assert_allclose(out["cost"][0], out["cost"][2])  # same parameters, same cost


def test_measures_terms():
    import gaitsim as gs
    from gaitsim.optimize import measures

    m = gs.build_model(batch_size=2)
    t = np.arange(0, 1.0, 0.01)
    q = np.zeros((2, t.size, 10))
    q[:, :, 0] = np.outer([1.3, 0.0], t)  # walker 0 walks at 1.3 m/s, walker 1 stands
    act = np.full((2, t.size, len(gs.MUSCLES)), 0.1)
    act[1] = 0.5
    grf = np.zeros((2, t.size, 2, 2))
    grf[:, :, 0, 1] = m.body_weight[0]  # 1 BW on the right foot ...
    grf[1, :, 0, 1] = 2.0 * m.body_weight[1]  # ... except walker 1, at 2 BW: 0.6 BW over the limit
    res = gs.Results(time=t, data={"q": q, "activation": act, "limit_moment": np.zeros((2, t.size, 10)),
                                   "grf": grf},
                     status=np.array([0, 1]), status_time=np.array([np.nan, 0.5]), final_state=np.zeros((2, 1)),
                     t_end=1.0, n_steps=4000, dt=2.5e-4)
    out = measures(res, m, Objective(duration=1.0), np.zeros((2, 10)))
    assert out["alive"].tolist() == [1.0, 0.5]
    assert out["speed"][0] == pytest.approx(1.3, rel=0.02) and out["speed"][1] == pytest.approx(0.0)
    assert out["effort"][0] == pytest.approx(0.1**3) and out["effort"][1] == pytest.approx(0.5**3)
    assert out["grf"][0] == 0.0 and out["grf"][1] == pytest.approx(0.6)
    assert out["cost"][1] > out["cost"][0] + 50  # falling halfway and standing still cost most


def test_tune_checkpoints_and_resumes(tmp_path):
    sp = SearchSpace(mode="trunk_initiated", gains=("G_SOL", "kp"))  # the start speed varies the cost
    ob = Objective(duration=0.05)
    ck = tmp_path / "ck.pkl"
    msgs = []
    sol1 = tune(sp, ob, generations=1, popsize=4, seed=3, checkpoint=ck, progress=msgs.append)
    assert ck.exists() and sol1["provenance"]["generations"] == 1
    sol2 = tune(sp, ob, generations=2, popsize=4, seed=3, checkpoint=ck, progress=msgs.append)
    assert sol2["provenance"]["generations"] == 2
    assert any("resumed" in m for m in msgs)
    assert set(sol2["gains"]) == {"G_SOL", "kp"} and sol2["provenance"]["seed"] == 3


def _reference_gait(n_walkers=2, stride=1.1, strides=5, dt=0.002, stance=0.62, shift_pct=0.0):
    """Results of walkers that replay the shipped measured stride (angles) with trapezoid foot loads."""
    import gaitsim as gs
    from gaitsim.analysis import REFERENCE_ANGLES
    from gaitsim.data.reference_gait import reference_stride

    m = gs.build_model(batch_size=n_walkers)
    ref = reference_stride()
    t = np.arange(0.0, strides * stride, dt)
    q = np.zeros((n_walkers, t.size, 10))
    q[:, :, 0] = 1.2 * t
    grf = np.zeros((n_walkers, t.size, 2, 2))
    for leg, offset in ((0, 0.0), (1, 50.0)):
        pct = (100.0 * t / stride + offset) % 100.0
        # trapezoid load: 5 % BW exactly at the stance window's edges, full BW 95 ms inside them (linear
        # ramps, so the events interpolated between samples land on the edges)
        inside = np.where(pct < 100 * stance, np.minimum(pct, 100 * stance - pct),
                          -np.minimum(pct - 100 * stance, 100.0 - pct)) * stride / 100.0  # s from the nearest edge
        grf[:, :, leg, 1] = m.body_weight[0] * np.clip(0.05 + inside / 0.1, 0.0, 1.0)
        if leg == 0:
            for joint, col in zip(("hip", "knee", "ankle"), (4, 5, 6)):
                column, sign = REFERENCE_ANGLES[joint]
                angle = np.radians(np.interp((pct + shift_pct) % 100.0, ref["pct_cycle"], ref[column], period=100.0))
                q[:, :, col] = sign * angle
    res = gs.Results(time=t, data={"q": q, "activation": np.zeros((n_walkers, t.size, len(gs.MUSCLES))),
                                   "limit_moment": np.zeros((n_walkers, t.size, 10)), "grf": grf},
                     status=np.array([0, 1]), status_time=np.array([np.nan, 1.5]),
                     final_state=np.zeros((n_walkers, 1)), t_end=t[-1], n_steps=t.size, dt=dt)
    return m, res


def test_gait_terms_reward_the_measured_stride_and_penalize_falls():
    from gaitsim.optimize import gait_terms

    m, res = _reference_gait()
    ob = Objective(duration=res.time[-1], w_shape=1.0, w_phase=1.0)
    alive = np.array([res.time[-1], 1.5])
    terms = gait_terms(res, m, alive, ob)
    shape, phase, hump = terms["shape"], terms["phase"], terms["hump"]
    assert shape[0] < 0.01  # the measured stride itself: r ~ 1 for hip, knee and ankle
    assert phase[0] == pytest.approx(0.0)  # stance 62 %, double support 12 %: inside the ranges
    assert shape[1] == 2.0 and phase[1] == 5.0 and hump[1] == 5.0  # fell after 0.5 s of strides: the worst values
    assert hump[0] == pytest.approx(1.0)  # flat-topped load: peaks 1.0 BW are in range, but no trough (0.1 short)
    assert terms["cadence"][0] == pytest.approx(0.0) and terms["cadence"][1] == 5.0  # 109 steps/min: in range
    m, shifted = _reference_gait(stance=0.52, shift_pct=30.0)
    t2 = gait_terms(shifted, m, alive, ob)
    s2, p2 = t2["shape"], t2["phase"]
    assert s2[0] > 0.3  # angles out of phase with the strides
    assert p2[0] == pytest.approx((57 - 52) / 10 + (8 - 2) / 10, abs=0.05)  # short stance, 2 % double support


def test_hump_term_is_zero_for_a_double_hump_and_counts_an_impact_peak():
    from gaitsim.optimize import gait_terms

    m, res = _reference_gait()
    t, stance = res.time, 0.62
    ob = Objective(duration=t[-1], w_hump=1.0)
    alive = np.array([t[-1], t[-1]])
    grf = res["grf"].copy()
    pct = (100.0 * t / 1.1) % 100.0
    s = np.clip(pct / (100.0 * stance), 0.0, 1.0)
    u = np.sin(np.pi * s)
    hump = (u - 0.6 * u**3) * (1.2 / (1.0 / np.sqrt(1.8) - 0.6 / 1.8**1.5))  # peaks 1.2 BW, trough 0.97 BW
    grf[0, :, 0, 1] = np.where(pct < 100 * stance, hump * m.body_weight[0], 0.0)
    impact = hump + 0.6 * np.exp(-(((pct - 10.0) / 2.0) ** 2))  # an impact spike on the loading hump: ~1.6 BW
    grf[1, :, 0, 1] = np.where(pct < 100 * stance, impact * m.body_weight[0], 0.0)
    res.data["grf"] = grf
    h = gait_terms(res, m, alive, ob)["hump"]
    assert h[0] == pytest.approx(0.0, abs=1e-6)
    assert h[1] > 1.0  # first peak above 1.35 BW by more than 0.1 BW


def test_cadence_term_counts_steps_per_minute_outside_95_to_125():
    from gaitsim.optimize import gait_terms

    ob = Objective(w_cadence=1.0)
    for stride, expected in ((1.1, 0.0), (0.8, (150.0 - 125.0) / 10.0), (1.5, (95.0 - 80.0) / 10.0)):
        m, res = _reference_gait(stride=stride, strides=6)  # cadence = 120 / stride steps/min
        ob.duration = res.time[-1]
        alive = np.array([res.time[-1], res.time[-1]])
        assert gait_terms(res, m, alive, ob)["cadence"][0] == pytest.approx(expected, abs=0.02), stride


def test_also_dt_scores_the_worst_step():
    """With ``also_dt`` each candidate runs at every step and keeps its worst cost; the other
    measures are those at ``dt``."""
    sp = SearchSpace(mode="trunk_initiated", gains=("G_SOL", "kp"))
    x = np.random.default_rng(0).normal(0.0, 0.5, (3, sp.dimension))
    # the same sampling interval in seconds at both steps (8 x 0.25 ms = 4 x 0.5 ms)
    one = {dt: evaluate(x, sp, Objective(duration=0.3, dt=dt, sample_every=every))
           for dt, every in ((2.5e-4, 8), (5e-4, 4))}
    both = evaluate(x, sp, Objective(duration=0.3, dt=2.5e-4, also_dt=(5e-4,)))
    np.testing.assert_allclose(both["cost"], np.maximum(one[2.5e-4]["cost"], one[5e-4]["cost"]))
    np.testing.assert_allclose(both["speed"], one[2.5e-4]["speed"])
    assert not np.allclose(one[2.5e-4]["cost"], one[5e-4]["cost"])  # the steps do differ


def test_objective_carries_the_integrator_options():
    from gaitsim.optimize import objective_solver

    solver = objective_solver(Objective(fiber_iterations=3, normal_contact="active_set", backend="numpy"))
    assert (solver.fiber_iterations, solver.normal_contact, solver.backend) == (3, "active_set", "numpy")
    with pytest.raises(ValueError, match="normal_contact"):
        objective_solver(Objective(normal_contact="implicit"))


def test_solution_takes_a_chosen_generations_best():
    from gaitsim.optimize import solution

    sp = SearchSpace(mode="trunk_initiated")
    rng = np.random.default_rng(2)
    history = [{"generation": g, "best_cost": c, "x_best": rng.normal(0, 0.1, sp.dimension).tolist()}
               for g, c in ((1, 5.0), (2, 3.0), (3, 4.0))]
    best = solution(sp, Objective(), history)
    second_gen = solution(sp, Objective(), history, generation=3)
    assert best["provenance"]["best_generation"] == 2 and second_gen["provenance"]["best_generation"] == 3
    assert second_gen["provenance"]["best_cost"] == 4.0
    assert second_gen["gains"] != best["gains"]
    assert second_gen["gains"] == solution(sp, Objective(), history[2:])["gains"]
    with pytest.raises(ValueError, match=r"generation must lie in \[1, 3\]"):
        solution(sp, Objective(), history, generation=4)


def test_offset_impact_emg_and_amplitude_terms():
    """Walker 0 replays the measured stride with the normative EMG windows at activation 0.4 and a
    flat 1-BW load; walker 1 is the same with the hip 10 deg more flexed, activations at 0.9 and a
    1.8-BW spike 110 ms after every right heel strike (inside the first 20 % of its stance)."""
    from gaitsim.analysis import EMG_MUSCLES
    from gaitsim.data.emg_onoff import ON_WINDOWS_PCT
    from gaitsim.names import MUSCLES
    from gaitsim.optimize import gait_terms

    stride = 1.1
    m, res = _reference_gait(stride=stride, strides=6)
    t = res.time
    pct = (100.0 * t / stride) % 100.0
    act = np.zeros((2, t.size, len(MUSCLES)))
    for stem, muscle in EMG_MUSCLES.items():
        on = np.zeros(t.size, bool)
        for a, b in ON_WINDOWS_PCT[stem]:
            on |= (pct >= a) & (pct <= b)
        act[0, :, MUSCLES.index(muscle)] = 0.01 + 0.39 * on
        act[1, :, MUSCLES.index(muscle)] = 0.01 + 0.89 * on
    res.data["activation"] = act
    res.data["q"][1, :, 4] += np.radians(10.0)
    strike_times = np.arange(1, 6) * stride
    spike = np.zeros(t.size)
    for s in strike_times:
        spike += 0.8 * np.exp(-(((t - s - 0.11) / 0.004) ** 2))  # on the full-load plateau
    res.data["grf"][1, :, 0, 1] += spike * m.body_weight[0]
    ob = Objective(duration=t[-1], settle=0.5, w_offset=1.0, w_impact=1.0, w_emg=1.0, w_amplitude=1.0)
    terms = gait_terms(res, m, np.array([t[-1], t[-1]]), ob)
    assert terms["offset"][0] < 0.02 and terms["offset"][1] == pytest.approx(10.0 / 3 / 10.0, abs=0.02)
    assert terms["impact"][0] == 0.0  # 1.0-BW plateau
    right = (1.8 - 1.25) / 2  # right-foot strikes spike to 1.8 BW, left ones stay at 1.0: mean excess over both feet
    assert terms["impact"][1] == pytest.approx((right + (1.8 - 1.5)) / 0.1, rel=0.05)
    assert terms["emg"][0] < 0.1 and terms["emg"][1] < 0.1  # on/off only: amplitude does not matter
    assert terms["amplitude"][0] == 0.0 and terms["amplitude"][1] == pytest.approx((0.9 - 0.5) / 0.1, abs=0.05)


def test_metabolic_term_is_the_cost_of_transport_at_the_target_speed():
    """Umberger's muscle power summed over muscles, averaged over the time alive only, per kg and
    per metre at the target speed; weighted into the cost by ``w_metabolic``."""
    import gaitsim as gs
    from gaitsim.loads import metabolic_power
    from gaitsim.optimize import measures

    m = gs.build_model(batch_size=2)
    t = np.arange(0, 1.0, 0.01)
    n = len(gs.MUSCLES)
    act = np.full((2, t.size, n), 0.2)
    act[1] = np.where(t[:, None] < 0.5, 0.4, 1.0)  # walker 1 falls at 0.5 s: its full activation after is not counted
    l_opt = m.params["muscle.optimal_fiber_length"]
    data = {"q": np.zeros((2, t.size, 10)), "activation": act, "excitation": act.copy(),
            "fiber_length": np.repeat(l_opt[:, None, :], t.size, axis=1), "fiber_velocity": np.zeros((2, t.size, n)),
            "limit_moment": np.zeros((2, t.size, 10)), "grf": np.zeros((2, t.size, 2, 2))}
    res = gs.Results(time=t, data=data, status=np.array([0, 1]), status_time=np.array([np.nan, 0.5]),
                     final_state=np.zeros((2, 1)), t_end=1.0, n_steps=4000, dt=2.5e-4)
    power = metabolic_power(data, m).sum(axis=2)  # (2, T) W
    expected = np.array([power[0].mean(), power[1, t < 0.5].mean()]) / m.skeleton.mass_total / 1.3
    # with a stride-based term on as well: the metabolic term must survive the gait terms' sum
    with_term = measures(res, m, Objective(duration=1.0, w_metabolic=3.0, w_cadence=1.0), np.zeros((2, 10)))
    without = measures(res, m, Objective(duration=1.0, w_cadence=1.0), np.zeros((2, 10)))
    alone = measures(res, m, Objective(duration=1.0, w_metabolic=3.0), np.zeros((2, 10)))
    np.testing.assert_allclose(alone["metabolic"], with_term["metabolic"])
    assert with_term["cadence"][0] > 0  # no strides in this record: the cadence term is charged
    np.testing.assert_allclose(with_term["metabolic"], expected, rtol=1e-12)
    assert expected[1] > expected[0] > 0  # more activation, more heat
    np.testing.assert_allclose(with_term["cost"] - without["cost"], 3.0 * expected, rtol=1e-12)
    assert "metabolic" not in without


def test_objective_refuses_negative_weights():
    with pytest.raises(ValueError, match="w_metabolic"):
        Objective(w_metabolic=-1.0)


def test_lumbar_term_counts_per_stride_compression_peaks_above_cappozzo():
    """Upright, still trunk: the compression is the torso's weight (below 2.5 BW, no cost); walker 1
    adds an erector spinae pull of 3 BW in the middle of every stride, along the spine, so each
    stride's peak is the torso's weight + 3 BW."""
    from gaitsim.loads import CAPPOZZO_PEAK_BW, torso_parameters
    from gaitsim.names import MUSCLES
    from gaitsim.optimize import gait_terms, measures

    stride = 1.1
    m, res = _reference_gait(stride=stride, strides=6)
    t = res.time
    res.data["qdot"] = np.gradient(res.data["q"], t, axis=1)
    force = np.zeros((2, t.size, len(MUSCLES)))
    bw = float(m.body_weight[0])
    for k in range(6):
        force[1, :, MUSCLES.index("erector_spinae")] += 3.0 * bw * np.exp(-(((t - (k + 0.5) * stride) / 0.01) ** 2))
    res.data["muscle_force"] = force
    alive = np.array([t[-1], t[-1]])
    torso = float(torso_parameters(m)["mass"][0] / m.skeleton.mass_total[0])  # BW while still and upright
    ob = Objective(duration=t[-1], settle=0.5, w_lumbar=1.0)
    terms = gait_terms(res, m, alive, ob)
    assert ob.lumbar_limit == CAPPOZZO_PEAK_BW[1]
    assert terms["lumbar"][0] == 0.0
    assert terms["lumbar"][1] == pytest.approx((torso + 3.0 - 2.5) / 0.1, rel=1e-3)
    off = gait_terms(res, m, alive, Objective(duration=t[-1], settle=0.5, w_cadence=1.0))
    assert "lumbar" not in off  # not computed when its weight is 0
    x0 = np.zeros((2, 10))
    on = measures(res, m, Objective(duration=t[-1], settle=0.5, w_lumbar=2.0), x0)
    base = measures(res, m, Objective(duration=t[-1], settle=0.5), x0)
    assert on["lumbar"][1] > 0
    np.testing.assert_allclose(on["cost"] - base["cost"], 2.0 * on["lumbar"], rtol=1e-12)


def test_shift_posture_keeps_trunk_and_thighs_and_the_swing_reflex_thresholds_on_the_body():
    """The posture shift moves lumbar_ref and the start pose by the same flexion, keeps the trunk
    (pelvis_tilt + lumbar) and the thighs (pelvis_tilt + hip) in space, and moves each swing
    reflex's length threshold by the normalized fibre-length change the model's own muscle paths
    give between the two poses (psoas spans hip and lumbar), on the default body."""
    from gaitsim.model import build_model, path_geometry
    from gaitsim.names import COORDINATES, MUSCLES
    from gaitsim.optimize import LENGTH_THRESHOLDS, shift_posture

    base = {"lumbar_ref": 0.02, "l_off_HFL": 0.45, "l_off_HAM": 0.8, "start_pelvis_tilt": 0.05, "start_lumbar": -0.09,
            "start_hip_flexion_r": -0.14, "start_hip_flexion_l": 0.2, "start_knee_angle_r": 0.08}
    flexion = 0.25
    out = shift_posture(base, flexion)
    assert out["lumbar_ref"] == pytest.approx(0.27) and out["start_knee_angle_r"] == base["start_knee_angle_r"]
    for joint in ("lumbar", "hip_flexion_r", "hip_flexion_l"):
        assert out["start_pelvis_tilt"] + out[f"start_{joint}"] == pytest.approx(
            base["start_pelvis_tilt"] + base[f"start_{joint}"], abs=1e-12)
    model = build_model(1)
    q = np.zeros((len(COORDINATES), 1))
    for k, v in base.items():
        if k.startswith("start_"):
            q[COORDINATES.index(k[6:])] = v
    q2 = q.copy()
    for k in ("pelvis_tilt", "lumbar", "hip_flexion_r", "hip_flexion_l"):
        q2[COORDINATES.index(k)] = out[f"start_{k}"]
    before, after = path_geometry(model.paths, q)[0], path_geometry(model.paths, q2)[0]
    for gain, muscle in LENGTH_THRESHOLDS.items():
        i = MUSCLES.index(f"{muscle}_r")
        change = (after[i, 0] - before[i, 0]) / model.muscles.l_opt[i, 0]
        assert out[gain] - base[gain] == pytest.approx(change, rel=1e-9), gain  # moment arms scale with l_opt
    assert out["l_off_HFL"] > base["l_off_HFL"] and out["l_off_HAM"] < base["l_off_HAM"]


def test_regularity_term_is_the_stride_time_cv():
    """Walker 0 repeats 1.1-s strides (CV 0); walker 1's right foot lands after strides that
    alternate between 1.0 and 1.2 s: the term is their coefficient of variation in %, and a walker
    with fewer than three strides after ``settle`` gets 5."""
    from gaitsim.optimize import gait_terms

    m, res = _reference_gait(stride=1.1, strides=7)
    t = res.time
    bounds = np.cumsum([0.0] + [1.0, 1.2] * 4)  # right heel strikes of walker 1, s
    k = np.clip(np.searchsorted(bounds, t, side="right") - 1, 0, bounds.size - 2)
    length = bounds[k + 1] - bounds[k]
    pct = 100.0 * (t - bounds[k]) / length
    inside = np.where(pct < 62.0, np.minimum(pct, 62.0 - pct), -np.minimum(pct - 62.0, 100.0 - pct)) * length / 100.0
    res.data["grf"][1, :, 0, 1] = m.body_weight[0] * np.clip(0.05 + inside / 0.1, 0.0, 1.0)
    ob = Objective(duration=t[-1], settle=0.5, w_regularity=1.0)
    terms = gait_terms(res, m, np.array([t[-1], t[-1]]), ob)
    strides = np.diff(bounds[(bounds >= 0.5) & (bounds < t[-1])])
    assert terms["regularity"][0] < 0.05
    assert terms["regularity"][1] == pytest.approx(100.0 * strides.std(ddof=1) / strides.mean(), rel=0.02)
    assert terms["regularity"][1] > 8.0  # alternating 1.0 / 1.2 s: about 9 %
    short = gait_terms(res, m, np.array([t[-1], 2.5]), ob)  # walker 1 alive for two strides only
    assert short["regularity"][1] == 5.0
