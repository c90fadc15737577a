"""Scenarios: presets, TOML round trip and includes, bad input named before any work, a batch of
scenarios equal to the single runs, and every shipped scenario file runs at reduced length."""

from pathlib import Path

import numpy as np
import pytest

from gaitsim.scenario import PRESETS, Scenario, build_batch, preset_names, run_batch

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "scenarios"
SCENARIO_FILES = sorted(EXAMPLES.glob("*.toml"))


def test_presets_resolve_the_tuned_step_and_integrator():
    r = Scenario.preset("healthy").resolved()
    assert r.dt == 5e-4 and r.integrator == {"damping_theta": 0.5, "fiber_iterations": 3, "mechanics_substeps": 4,
                                             "normal_contact": "active_set"}
    g = Scenario.preset("healthy", controller="geyer_herr").resolved()
    assert g.dt == r.dt and g.integrator == r.integrator  # both walkers tuned with one integrator since 0.8
    assert Scenario.preset("drop").resolved().controller == "pose_hold"
    for name in preset_names():
        Scenario.preset(name)  # every advertised preset builds


def test_preset_severity_sides_and_combinations():
    s = Scenario.preset("tight_psoas+stiff_calves", severity=0.3)
    assert s.impairments == {"psoas_shortening": 0.3, "calf_stiffness": 0.3}
    assert Scenario.preset("tight_psoas_r").impairments == {"psoas_shortening_r": 0.6}
    changes = Scenario.preset("tight_psoas_r", 1.0).changes()
    assert any(k.endswith("psoas_r") for k in changes.scale) and not any(k.endswith("psoas_l") for k in changes.scale)
    with pytest.raises(ValueError, match="only impairment presets combine"):
        Scenario.preset("healthy+drop")


def test_toml_round_trip_and_includes(tmp_path):
    s = Scenario.preset("stiff_calves", 0.6).with_settings(
        {"calf_stretch_gain": 0.4, "muscle.passive_stiffness.soleus_r": 2.0, "duration": 3.0, "mechanics_substeps": 8})
    path = s.save(tmp_path / "s.toml")
    again = Scenario.load(path)
    assert again == s and again.key() == s.key()
    (tmp_path / "child.toml").write_text('include = ["s.toml"]\nname = "child"\n[impairments]\npsoas_tone = 0.2\n')
    child = Scenario.load(tmp_path / "child.toml")
    assert child.name == "child" and child.impairments == {"calf_stiffness": 0.6, "psoas_tone": 0.2}
    assert child.gains == {"calf_stretch_gain": 0.4} and child.integrator == {"mechanics_substeps": 8}
    assert child.key() != s.key()
    resolved = s.resolved()
    assert Scenario.load(resolved.save(tmp_path / "r.toml")) == resolved


@pytest.mark.parametrize("text, names", [
    ('[impairments]\npsoas_shortning = 0.5', ["psoas_shortning", "psoas_shortening"]),
    ('[impairments]\ncalf_stiffness = 1.5', ["impairments.calf_stiffness", "[0, 1]"]),
    ('[impairments]\ncalf_stiffness = "high"', ["impairments.calf_stiffness", "number"]),
    ('[parameters]\n"muscle.optimal_fibre_length.soleus_r" = 0.05', ["muscle.optimal_fibre_length"]),
    ('[parameters]\n"muscle.optimal_fiber_length.solues_r" = 0.05', ["solues_r"]),
    ('[body]\nbody_mass = -70', ["body_mass", "(0, 500]"]),
    ('[body]\nweight = 70', ["weight", "body_mass"]),
    ('duration = 0', ["duration", "(0, 100000]"]),
    ('[controller]\nwalker = "clock"', ["clock", "trunk_initiated"]),
    ('[controller.gains]\nG_SOLL = 1.0', ["G_SOLL", "G_SOL"]),
    ('[integrator]\nmechanics_substeps = 0', ["mechanics_substeps", "[1, 16]"]),
    ('[integrator]\ndt = 1.0', ["dt", "[1e-07, 0.01]"]),
    ('colour = "red"', ["colour"]),
    ('include = ["missing.toml"]', ["missing.toml"]),
    ('[impairments', ["not valid TOML"]),
])
def test_bad_scenario_files_are_refused_naming_the_field(tmp_path, text, names):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        Scenario.load(path)
    for name in names:
        assert name in str(err.value)


def test_bad_settings_and_presets():
    with pytest.raises(ValueError, match="did you mean 'healthy'"):
        Scenario.preset("helthy")
    with pytest.raises(ValueError, match="severity must lie in"):
        Scenario.preset("tight_psoas", severity=2.0)
    with pytest.raises(ValueError, match="--set bogus: not a scenario field"):
        Scenario().with_settings({"bogus": 1})
    with pytest.raises(ValueError, match="pose_hold controller has no reflex gains"):
        Scenario(controller="pose_hold", start="standing", gains={"G_SOL": 1.0})


def test_a_batch_of_scenarios_equals_the_single_runs():
    scenarios = [Scenario.preset("healthy"), Scenario.preset("stiff_calves", 1.0),
                 Scenario.preset("psoas_tone_r", 0.5), Scenario.preset("calf_reflex_loss", 1.0)]
    batch = run_batch(scenarios, duration=0.3)
    for s, b in zip(scenarios, batch):
        single = s.run(duration=0.3)
        for field in ("q", "excitation", "muscle_force"):
            np.testing.assert_array_equal(single.results[field], b.results[field])
        assert b.scenario == s.resolved() or b.scenario.replace(duration=s.duration) == s.resolved()
    # the impairments reached the body and the controller
    assert not np.array_equal(batch[1].results["muscle_force"], batch[0].results["muscle_force"])
    model, controller, _, _ = build_batch(scenarios)
    psoas_r = model.params.element("muscle.optimal_fiber_length", "psoas_r")
    assert psoas_r[0] == psoas_r[2]  # tone changes excitation, not the psoas's structure


def test_batches_refuse_mixed_settings():
    with pytest.raises(ValueError, match="differ in controller"):
        build_batch([Scenario.preset("healthy"), Scenario.preset("healthy", controller="geyer_herr")])


def test_psoas_tone_raises_resting_excitation_only_of_the_hip_flexors():
    from gaitsim.names import MUSCLES

    base, tone = run_batch([Scenario.preset("healthy"), Scenario.preset("psoas_tone", 1.0)], duration=0.05)
    diff = tone.results["excitation"][0, 0] - base.results["excitation"][0, 0]  # first sample, same sensors
    hip_flexors = [MUSCLES.index(m) for m in ("psoas_r", "iliacus_r", "psoas_l", "iliacus_l")]
    others = [i for i in range(len(MUSCLES)) if i not in hip_flexors]
    assert np.all(diff[hip_flexors] > 0.05) and np.all(diff[others] == 0.0)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.name for p in SCENARIO_FILES])
def test_shipped_scenario_files_run(path):
    result = Scenario.load(path).run(duration=0.5)
    assert result.results.time.size > 0
    assert result.status == "ok" or result.status.startswith("fell at")
    assert Scenario.load(path).resolved() == result.scenario.replace(duration=Scenario.load(path).duration)


def test_presets_table_is_consistent():
    for name, spec in PRESETS.items():
        assert spec.get("description"), name


def test_exam_results_set_severities():
    from gaitsim.impairments import exam_value

    s = Scenario().with_settings({"dorsiflexion_range_deg": 5.0, "thomas_hip_angle_deg_r": 0.0})
    assert 0.0 < s.impairments["calf_stiffness"] < 1.0 and 0.0 < s.impairments["psoas_shortening_r"] < 1.0
    assert abs(np.degrees(exam_value("calf_stiffness", s.impairments["calf_stiffness"])[0]) - 5.0) < 0.2
    with pytest.raises(ValueError, match="outside what calf_stiffness"):
        Scenario().with_settings({"dorsiflexion_range_deg": -40.0})


def test_toml_exam_targets(tmp_path):
    path = tmp_path / "exam.toml"
    path.write_text('[exam_targets]\ndorsiflexor_strength_pct = 50\n')
    s = Scenario.load(path)
    assert set(s.impairments) == {"weak_dorsiflexors"} and 0.5 < s.impairments["weak_dorsiflexors"] < 1.0


def test_exam_targets_use_the_final_body_and_keep_other_impairments(tmp_path):
    first = tmp_path / "a.toml"
    first.write_text('[exam_targets]\ndorsiflexion_range_deg = 10\n[impairments]\npsoas_tone = 0.3\n'
                     '[body]\nbody_mass = 60.0\nheight = 1.55\n')
    s = Scenario.load(first)
    assert s.impairments["psoas_tone"] == 0.3 and "calf_stiffness" in s.impairments
    same = Scenario(body_mass=60.0, height=1.55).with_settings({"dorsiflexion_range_deg": 10})
    assert s.impairments["calf_stiffness"] == same.impairments["calf_stiffness"]
    with pytest.raises(ValueError, match=r"dorsiflexion_range_deg: -40 is outside"):
        Scenario().with_settings({"dorsiflexion_range_deg": -40})


def test_left_sided_impairments_are_examined_on_the_left():
    left = Scenario.preset("stiff_calves_l", 1.0).exam()
    right = Scenario.preset("stiff_calves_r", 1.0).exam()
    assert np.degrees(left.dorsiflexion.range_extended[0]) == pytest.approx(
        np.degrees(right.dorsiflexion.range_extended[0]), abs=0.01)  # each examined on its impaired side
    assert np.degrees(left.dorsiflexion.range_extended[0]) < 5.0
