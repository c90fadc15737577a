"""Impairment knobs (gaitsim.impairments) and the ExcitationOffset controller wrapper."""

import numpy as np
import pytest

from gaitsim import exam
from gaitsim import impairments as imp
from gaitsim.control import MIN_EXCITATION, ConstantExcitation, ExcitationOffset
from gaitsim.control import bind_step
from gaitsim.integrate import simulate
from gaitsim.model import build_model
from gaitsim.names import MUSCLES
from gaitsim.reflex import ReflexController

DEG = np.pi / 180.0
GRID = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
EXAM_KNOBS = ("calf_stiffness", "psoas_shortening", "psoas_tone", "weak_dorsiflexors")


@pytest.fixture(scope="module")
def curves():
    return {k: imp.exam_value(k, GRID) for k in EXAM_KNOBS}


def test_severity_zero_is_the_healthy_model():
    ch = imp.impairment_changes({k: 0.0 for k in imp.IMPAIRMENTS}, 2)
    assert all(np.all(v == 1.0) for v in ch.scale.values())
    assert all(np.all(v == 1.0) for v in ch.gain_factors.values())
    assert all(np.all(v == 0.0) for v in ch.excitation_offset.values())
    a = exam.run_exams(build_model(2, scale=ch.scale), excitation_offset=ch.excitation_offset).values()
    b = exam.run_exams(build_model(2)).values()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


@pytest.mark.parametrize("name,tol", [("calf_stiffness", 0.3 * DEG), ("psoas_shortening", 0.3 * DEG),
                                      ("weak_dorsiflexors", 0.005)])
def test_target_hit_at_full_severity(curves, name, tol):
    target = imp.IMPAIRMENTS[name].target_at_full[0]
    assert curves[name][-1] == pytest.approx(target, abs=tol)


def test_exams_move_monotonically_in_the_clinical_direction(curves):
    assert np.all(np.diff(curves["calf_stiffness"]) < 0)  # less dorsiflexion
    assert np.all(np.diff(curves["psoas_shortening"]) > 0)  # hip stays more flexed
    assert np.all(np.diff(curves["psoas_tone"]) > 0)
    assert np.all(np.diff(curves["weak_dorsiflexors"]) < 0)  # weaker
    assert curves["psoas_tone"][-1] > 10 * DEG  # the tone shows in the Thomas test


def test_calf_stiffness_does_not_boost_the_soleus():
    """The contracture must not move the soleus up its ascending limb (stronger push-off)."""
    ch = imp.impairment_changes({"calf_stiffness": GRID}, GRID.size)
    m = build_model(GRID.size, scale=ch.scale)
    st = exam.static_state(m, np.zeros((10, GRID.size)), exam.activation_rows(m))
    sol = st.fiber_length_norm[MUSCLES.index("soleus_r")]
    assert np.all(np.diff(sol) < 0) and sol[0] < 1.0  # neutral standing ankle: shorter vs optimum
    pf = exam.ankle_strength(m).plantarflexor_peak
    assert np.all(np.diff(pf) < 0)
    # and no tendon gets shorter
    assert all(np.all(v >= 1.0) for k, v in ch.scale.items() if "tendon_slack" in k)


@pytest.mark.slow
def test_severity_for_exam_inverts_the_exam():
    for name, s in (("calf_stiffness", 0.37), ("psoas_shortening", 0.62), ("weak_dorsiflexors", 0.8)):
        v = imp.exam_value(name, s)[0]
        assert imp.severity_for_exam(name, v) == pytest.approx(s, abs=2e-3)
    with pytest.raises(ValueError, match="outside"):
        imp.severity_for_exam("calf_stiffness", 60 * DEG)
    with pytest.raises(ValueError, match="no exam"):
        imp.severity_for_exam("calf_reflex_responsiveness", 0.5)


def test_one_sided_and_per_walker():
    ch = imp.impairment_changes({"calf_stiffness_l": np.array([0.0, 1.0])}, 2)
    assert ch.scale and all(k.endswith("_l") for k in ch.scale)
    m = build_model(2, scale=ch.scale)
    left = exam.dorsiflexion_range(m, "l").range_extended
    right = exam.dorsiflexion_range(m, "r").range_extended
    assert right[0] == pytest.approx(right[1], rel=1e-12)  # right untouched
    assert left[1] < left[0] - 10 * DEG
    same = imp.impairment_changes({"weak_dorsiflexors": 0.4}, 3, side="r")
    assert set(same.scale) == {"muscle.max_isometric_force.tib_ant_r"}
    arr = imp.impairment_changes({"weak_dorsiflexors": np.array([0.0, 0.4, 1.0])}, 3)
    assert arr.scale["muscle.max_isometric_force.tib_ant_l"][1] == same.scale[
        "muscle.max_isometric_force.tib_ant_r"][0]
    # factors of two knobs on one parameter multiply
    both = imp.impairment_changes({"weak_dorsiflexors": 0.5, "weak_dorsiflexors_r": 0.5}, 1)
    f = 1 - 0.5 * (1 - imp.F_TA)
    assert both.scale["muscle.max_isometric_force.tib_ant_r"][0] == pytest.approx(f * f)


def test_reflex_and_tone_outputs():
    ch = imp.impairment_changes({"calf_reflex_responsiveness": 0.25, "psoas_tone": np.array([0.0, 1.0])}, 2)
    np.testing.assert_allclose(ch.gain_factors["calf_stretch_gain"], 0.75)
    np.testing.assert_allclose(ch.gain_factors["calf_stretch_velocity_gain"], 0.75)
    assert set(ch.excitation_offset) == {"psoas_r", "iliacus_r", "psoas_l", "iliacus_l"}
    np.testing.assert_allclose(ch.excitation_offset["psoas_r"], [0.0, imp.TONE_OFFSET])
    assert not ch.scale


@pytest.mark.parametrize("sev,match", [({"calf_stifness": 0.5}, "allowed: calf_stiffness"),
                                       ({"calf_stiffness": 1.5}, r"\[0, 1\]"),
                                       ({"calf_stiffness": -0.1}, r"\[0, 1\]"),
                                       ({"calf_stiffness": np.zeros(3)}, "shape"),
                                       ({"calf_stiffness": "a lot"}, "severity"),
                                       ({"calf_reflex_responsiveness_r": 0.5}, "both sides"),
                                       ])
def test_bad_input(sev, match):
    with pytest.raises(ValueError, match=match):
        imp.impairment_changes(sev, 2)


def test_bad_side_and_one_sided_reflex():
    with pytest.raises(ValueError, match="side"):
        imp.impairment_changes({"calf_stiffness": 0.5}, 2, side="left")
    with pytest.raises(ValueError, match="both sides"):
        imp.impairment_changes({"calf_reflex_responsiveness": 0.5}, 2, side="r")


# ----- ExcitationOffset ------------------------------------------------------------------------
def test_excitation_offset_adds_and_clips():
    m = build_model(2)
    base = ConstantExcitation({"psoas_r": 0.95})
    w = ExcitationOffset(base, {"psoas_r": np.array([0.0, 0.2]), "iliacus_l": 0.1})
    mem = w.initial_memory(m, np.zeros((10, 2)), np.zeros((10, 2)))
    assert w.memory_size == base.memory_size == mem.shape[0]
    out = w(0.0, None, mem)
    i, j = MUSCLES.index("psoas_r"), MUSCLES.index("iliacus_l")
    np.testing.assert_allclose(out.excitation[i], [0.95, 1.0])  # clipped at 1
    np.testing.assert_allclose(out.excitation[j], MIN_EXCITATION + 0.1)
    others = np.delete(out.excitation, [i, j], axis=0)
    assert np.all(others == MIN_EXCITATION)
    with pytest.raises(ValueError, match="unknown muscle"):
        ExcitationOffset(base, {"psoas": 0.1}).initial_memory(m, np.zeros((10, 2)), np.zeros((10, 2)))


def test_excitation_offset_in_simulate_and_step_check():
    m = build_model(1)
    res = simulate(m, ExcitationOffset(ConstantExcitation(), {"tib_ant_r": 0.3}), duration=0.005)
    exc = res["excitation"]
    assert exc[0, -1, MUSCLES.index("tib_ant_r")] == pytest.approx(MIN_EXCITATION + 0.3)
    wrapped = ExcitationOffset(ReflexController(dt=5e-4), {})
    with pytest.raises(ValueError, match="dt"):
        bind_step(wrapped, 2.5e-4)
