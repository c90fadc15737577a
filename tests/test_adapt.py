"""Adapted mode's machinery (not its findings): the warm start is the base solution, instances
sharing a batch give the numbers they give alone, impaired gains stay frozen, a run resumes after
an interruption with the result of an uninterrupted one, the cache key, and adapted scenarios run."""

import json

import numpy as np
import pytest

from gaitsim import adapt as A
from gaitsim.optimize import evaluate_walkers
from gaitsim.scenario import Scenario

QUICK = A.AdaptSettings(generations=2, popsize=4, sigma0=0.05, seeds=(1, 2),
                        objective=(("duration", 0.6), ("also_dt", ()), ("settle", 0.2)))


def objective():
    return A.tuned_objective("trunk_initiated", QUICK.objective)


def test_x_zero_is_the_base_solution():
    sc = Scenario.preset("stiff_calves", 0.3)
    base = A._base_solution(sc, None)
    inst = A._new_instances([sc], [base], QUICK)[0]
    out = A._evaluate_together([inst], [np.zeros((2, inst.space.dimension))], objective())[0]
    acute = sc.model()
    from gaitsim.model import stack_models

    ref = evaluate_walkers(stack_models([acute, acute]), base["gains"],
                           {"speed": np.full(2, base["start"]["speed"]),
                            "pose_offsets": {k: np.full(2, v) for k, v in base["start"]["pose_offsets"].items()}},
                           objective(), "trunk_initiated")
    np.testing.assert_array_equal(out["cost"], ref["cost"])


def test_instances_sharing_a_batch_equal_their_runs_alone():
    scs = [Scenario.preset("healthy"), Scenario.preset("psoas_tone", 0.6), Scenario.preset("calf_reflex_loss", 0.6)]
    insts = A._new_instances(scs, [A._base_solution(s, None) for s in scs], QUICK)
    pops = [i.ask() for i in insts]
    together = A._evaluate_together(insts, pops, objective())
    for k in (0, 2, 5):  # one instance of each scenario
        alone = A._evaluate_together([insts[k]], [pops[k]], objective())[0]
        np.testing.assert_array_equal(alone["cost"], together[k]["cost"])
    # the tone reached the walkers of its scenario only: same candidates, different costs
    tone = A._evaluate_together([insts[2]], [pops[0]], objective())[0]
    assert not np.array_equal(tone["cost"], together[0]["cost"])


def test_impaired_gains_are_frozen_not_searched():
    sc = Scenario.preset("calf_reflex_loss", 0.6).with_settings({"G_SOL": 1.5})
    base = A._base_solution(sc, None)
    frozen = A.frozen_gains(sc, base)
    assert frozen["G_SOL"] == 1.5
    assert frozen["calf_stretch_gain"] == pytest.approx(0.4 * base["gains"]["calf_stretch_gain"])
    space = A.search_space(sc, base)
    assert not {"G_SOL", "calf_stretch_gain", "calf_stretch_velocity_gain"} & set(space.gains)
    gains, start = space.decode(np.zeros(space.dimension))
    assert gains["G_VAS"][0] == base["gains"]["G_VAS"] and start["speed"][0] == base["start"]["speed"]
    healthy = A.search_space(Scenario.preset("healthy"), base)  # the gains the shipped walker was tuned over
    assert set(healthy.gains) == set(base["provenance"]["search_gains"]) and "lumbar_ref" in healthy.gains
    assert healthy.decode(np.zeros(healthy.dimension))[0]["lumbar_ref"][0] == base["gains"]["lumbar_ref"]


def test_instance_samples_do_not_depend_on_other_instances():
    sc = Scenario.preset("healthy")
    base = A._base_solution(sc, None)
    alone = A._new_instances([sc], [base], QUICK)
    pair = A._new_instances([sc, Scenario.preset("stiff_calves", 0.3)], [base, base], QUICK)
    np.random.seed(123)
    a = [i.ask() for i in alone]
    b = [i.ask() for i in pair]
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1])  # two seeds, two samples
    assert np.random.get_state()[1][0] == np.random.RandomState(123).get_state()[1][0]  # caller's RNG untouched


def test_resume_after_interruption_and_the_cache(tmp_path):
    sc = Scenario.preset("weak_dorsiflexors", 0.3)
    whole = A.adapt([sc], QUICK, store=tmp_path / "whole", progress=lambda m: None)

    calls = []

    def stop_after_first(message):
        calls.append(message)
        if len(calls) == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        A.adapt([sc], QUICK, store=tmp_path / "cut", progress=stop_after_first)
    resumed = A.adapt([sc], QUICK, store=tmp_path / "cut", progress=calls.append)
    assert any("resumed" in c for c in calls)
    for w, r in zip(whole[0], resumed[0]):
        assert w["gains"] == r["gains"] and w["start"] == r["start"]
        assert [h["best_cost"] for h in w["history"]] == [h["best_cost"] for h in r["history"]]
    # cached: a second call returns the stored solutions without tuning
    again = A.adapt([sc], QUICK, store=tmp_path / "whole", progress=lambda m: pytest.fail("re-tuned"))
    assert again[0][0]["gains"] == whole[0][0]["gains"]
    sol = json.loads((tmp_path / "whole" / f"{A.adapted_key(sc)}_seed1.json").read_text())
    assert sol["provenance"]["mode"] == "adapted" and "weak_dorsiflexors" in sol["provenance"]["scenario"]
    # the adapted scenario runs with that solution
    import os

    os.environ["GAITSIM_CACHE"] = str(tmp_path / "whole" / "..")
    try:
        (tmp_path / "adapted").mkdir(exist_ok=True)
        for p in (tmp_path / "whole").glob("*.json"):
            (tmp_path / "adapted" / p.name).write_text(p.read_text())
        os.environ["GAITSIM_CACHE"] = str(tmp_path)
        run = sc.replace(mode="adapted", seed=2).run(duration=0.3)
        assert run.results.time.size > 0
        with pytest.raises(FileNotFoundError, match="gaitsim adapt"):
            sc.replace(mode="adapted", seed=7).run(duration=0.3)
    finally:
        del os.environ["GAITSIM_CACHE"]


def test_cache_key_follows_the_problem_not_the_run_settings():
    sc = Scenario.preset("tight_psoas", 0.6)
    assert A.adapted_key(sc) == A.adapted_key(sc.replace(duration=3.0, mode="adapted", seed=3, name="x"))
    assert A.adapted_key(sc) != A.adapted_key(Scenario.preset("tight_psoas", 0.3))
    assert A.adapted_key(sc) != A.adapted_key(sc.replace(controller="geyer_herr"))


def test_bad_settings():
    with pytest.raises(ValueError, match="popsize must be an integer >= 2"):
        A.AdaptSettings(popsize=1)
    with pytest.raises(ValueError, match="unknown field"):
        A.AdaptSettings(objective=(("durration", 1.0),))
    with pytest.raises(ValueError, match="pose_hold"):
        A.adapt([Scenario.preset("stand")])
    with pytest.raises(ValueError, match="mode"):
        Scenario(mode="chronic")


def test_adapted_comparison_has_a_noise_floor_over_seeds(tmp_path, monkeypatch):
    from gaitsim.cli import main
    from gaitsim.compare import compare

    monkeypatch.setenv("GAITSIM_CACHE", str(tmp_path))
    settings = A.AdaptSettings(generations=1, popsize=3, seeds=(1, 2, 3),
                               objective=(("duration", 0.5), ("also_dt", ()), ("settle", 0.2)))
    scs = [Scenario.preset("healthy"), Scenario.preset("weak_dorsiflexors", 0.3)]
    A.adapt(scs, settings, progress=lambda m: None)
    with pytest.raises(ValueError, match="at least 3 seeds"):
        compare(scs, duration=2.5, mode="adapted", seeds=(1, 2))
    c = compare(scs, duration=3.5, mode="adapted")
    assert [len(g) for g in c.replicates] == [3, 3]
    assert [r.scenario.seed for r in c.replicates[1]] == [1, 2, 3]
    values = [r.measures.value("speed") for r in c.replicates[1] if r.results.status[0] == 0]  # fallen seeds out
    mean, spread = c.value("speed", 1)
    if values:
        assert mean == pytest.approx(np.mean(values)) and spread == pytest.approx(max(values) - min(values))
    else:
        assert np.isnan(mean)
    row = {r["measure"]: r for r in c.rows()}["speed"]
    ref_spread = row["healthy spread"]
    noise = max(ref_spread, row["weak_dorsiflexors spread"])
    expected = "no change" if abs(row["weak_dorsiflexors"] - row["healthy"]) <= noise else "changed"
    assert row["weak_dorsiflexors verdict"] == expected
    assert main(["compare", "healthy", "weak_dorsiflexors", "--severity", "0.3", "--mode", "adapted",
                 "--duration", "3.5"]) == 0


def test_continuation_along_severity_and_workers_give_the_same_numbers(tmp_path):
    settings = A.AdaptSettings(generations=1, popsize=3, seeds=(1, 2),
                               objective=(("duration", 0.5), ("also_dt", ()), ("settle", 0.2)))
    families = {"weak": lambda s: Scenario.preset("weak_dorsiflexors", s),
                "tone": lambda s: Scenario.preset("psoas_tone", s)}
    one = A.adapt_series(families, [0.2, 0.4], settings, store=tmp_path / "one", progress=lambda m: None)
    first = one["weak"][0]
    best = min(first, key=lambda s: s["provenance"]["best_cost"])
    second = one["weak"][1][0]
    others = [s for s in first if s is not best]
    assert second["provenance"]["base"].startswith(best["provenance"]["adapted_key"] + " ")
    assert second["provenance"]["base"] == A._base_name(best, families["weak"](0.4))  # from the best seed
    assert all(A._base_name(s, families["weak"](0.4)) != second["provenance"]["base"] for s in others)
    space = A.search_space(families["weak"](0.4), best)
    gains, start = space.decode(np.zeros(space.dimension))
    assert all(gains[k][0] == pytest.approx(best["gains"][k]) for k in gains)
    assert start["speed"][0] == pytest.approx(best["start"]["speed"])
    two = A.adapt_series(families, [0.2, 0.4], settings, store=tmp_path / "two", workers=2, progress=lambda m: None)
    for name in families:
        for a, b in zip(one[name], two[name]):
            assert [s["gains"] for s in a] == [s["gains"] for s in b]


def test_stored_solutions_are_reused_only_for_the_same_settings(tmp_path):
    sc = Scenario.preset("psoas_tone", 0.3)
    settings = A.AdaptSettings(generations=1, popsize=2, seeds=(1,),
                               objective=(("duration", 0.4), ("also_dt", ()), ("settle", 0.2)))
    A.adapt([sc], settings, store=tmp_path, progress=lambda m: None)
    A.adapt([sc], settings, store=tmp_path, progress=lambda m: pytest.fail("re-tuned with the same settings"))
    calls = []
    longer = A.AdaptSettings(generations=2, popsize=2, seeds=(1,), objective=settings.objective)
    sol = A.adapt([sc], longer, store=tmp_path, progress=calls.append)[0][0]
    assert calls and sol["provenance"]["adapt_settings"]["generations"] == 2


def test_a_series_from_another_start_is_not_the_shipped_walkers_cache(tmp_path):
    """``adapt_series(start=...)`` centres the first severity on that solution, and solutions stored
    from the shipped walker are not reused for it (nor the other way round)."""
    from gaitsim.tuned import load_tuned

    settings = A.AdaptSettings(generations=1, popsize=2, seeds=(1,),
                               objective=(("duration", 0.4), ("also_dt", ()), ("settle", 0.2)))
    family = lambda s: Scenario.preset("psoas_tone", s)  # noqa: E731
    A.adapt_series(family, [0.3], settings, store=tmp_path, progress=lambda m: None)
    other = load_tuned("trunk_initiated")
    other["gains"] = {**other["gains"], "kp_L": other["gains"]["kp_L"] * 1.1}
    calls = []
    sol = A.adapt_series(family, [0.3], settings, start=other, store=tmp_path, progress=calls.append)["series"][0][0]
    assert calls  # tuned again: a different start
    assert sol["provenance"]["base"].startswith("tuned solution ")
    space = A.search_space(family(0.3), other)
    gains, _ = space.decode(np.zeros(space.dimension))
    assert gains["kp_L"][0] == pytest.approx(other["gains"]["kp_L"])  # the search was centred on it
    again = []
    A.adapt_series(family, [0.3], settings, store=tmp_path, progress=again.append)
    assert again  # the stored solution now comes from the other start: the shipped one is tuned anew


def test_a_new_shipped_walker_invalidates_the_cache_along_the_series(tmp_path, monkeypatch):
    """Solutions adapted from one shipped walker are not reused once the shipped walker changes
    (a new release), at the first severity nor at the ones continued from it."""
    import gaitsim.tuned as T

    settings = A.AdaptSettings(generations=1, popsize=2, seeds=(1,),
                               objective=(("duration", 0.4), ("also_dt", ()), ("settle", 0.2)))
    family = lambda s: Scenario.preset("psoas_tone", s)  # noqa: E731
    first = A.adapt_series(family, [0.3, 0.6], settings, store=tmp_path, progress=lambda m: None)["series"]
    assert first[0][0]["provenance"]["base"].startswith("shipped tuned trunk_initiated ")
    original = T.load_tuned

    def new_release(mode="trunk_initiated"):
        sol = original(mode)
        sol["gains"] = {**sol["gains"], "kp_L": sol["gains"]["kp_L"] * 1.1}
        return sol

    monkeypatch.setattr(T, "load_tuned", new_release)
    calls = []
    second = A.adapt_series(family, [0.3, 0.6], settings, store=tmp_path, progress=calls.append)["series"]
    assert sum("generation" in str(c) for c in calls) >= 2  # both severities tuned again
    for a, b in zip(first, second):
        assert a[0]["provenance"]["base"] != b[0]["provenance"]["base"]


def test_the_same_problem_twice_is_tuned_once(tmp_path):
    sc = Scenario.preset("psoas_tone", 0.3)
    settings = A.AdaptSettings(generations=1, popsize=2, seeds=(1, 2),
                               objective=(("duration", 0.4), ("also_dt", ()), ("settle", 0.2)))
    out = A.adapt([sc, sc.replace(duration=3.0, name="again")], settings, store=tmp_path, progress=lambda m: None)
    assert [len(x) for x in out] == [2, 2] and out[0] == out[1]
    with pytest.raises(ValueError, match="distinct integers >= 0"):
        A.AdaptSettings(seeds=(1, 1))
    with pytest.raises(ValueError, match="distinct integers >= 0"):
        A.AdaptSettings(seeds=(-1,))


def test_adapted_objective_does_not_score_the_lumbar_load_the_study_measures():
    """The shipped trunk-initiated walker was tuned with the lumbar compression term; adapted mode
    leaves it out (the tight-psoas claim measures that load) unless a study asks for it."""
    from gaitsim.tuned import load_tuned

    assert load_tuned("trunk_initiated")["provenance"]["objective"]["w_lumbar"] > 0
    assert A.tuned_objective("trunk_initiated", A.AdaptSettings().objective).w_lumbar == 0.0
    asked = A.AdaptSettings(objective=(("w_lumbar", 0.3),))
    assert A.tuned_objective("trunk_initiated", asked.objective).w_lumbar == 0.3


def test_adapted_effort_is_metabolic_unless_overridden():
    """Adapted mode replaces the healthy tuning's activation cubed by the metabolic cost of transport;
    a study's own overrides apply on top, including going back to activation cubed."""
    default = A.tuned_objective("trunk_initiated", A.AdaptSettings().objective)
    assert default.w_effort == 0.0 and default.w_metabolic == A.METABOLIC_WEIGHT > 0
    short = A.tuned_objective("trunk_initiated", A.AdaptSettings(objective=(("duration", 3.0),)).objective)
    assert (short.duration, short.w_metabolic) == (3.0, A.METABOLIC_WEIGHT)
    cubed = A.AdaptSettings(objective=(("w_effort", 10.0), ("w_metabolic", 0.0))).objective
    back = A.tuned_objective("trunk_initiated", cubed)
    assert (back.w_effort, back.w_metabolic) == (10.0, 0.0)
    assert A.settings_record(A.AdaptSettings(objective=(("duration", 3.0),)))["objective"] == {
        "w_effort": 0.0, "w_metabolic": A.METABOLIC_WEIGHT, "w_lumbar": 0.0, "duration": 3.0}
