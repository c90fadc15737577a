"""Bad input is refused with a ValueError naming the field and the allowed range, before any work."""

import numpy as np
import pytest

import gaitsim as gs


@pytest.mark.parametrize("value", [-1.0, 0.0, float("nan"), float("inf")])
def test_bad_segment_mass(value):
    with pytest.raises(ValueError, match=r"body\.segment_mass.*(range|finite)"):
        gs.build_model(parameters={"body.segment_mass.femur_r": value})


@pytest.mark.parametrize("value", [-75.0, float("nan")])
def test_bad_body_mass(value):
    with pytest.raises(ValueError, match=r"subject\.body_mass.*\(0, 500\] kg"):
        gs.build_model(body_mass=value)


def test_unknown_muscle_names_field_and_allowed():
    with pytest.raises(ValueError, match=r"muscle\.max_isometric_force.*no element matches 'psoas_x'.*soleus_r"):
        gs.build_model(scale={"muscle.max_isometric_force.psoas_x": 0.5})
    with pytest.raises(ValueError, match=r"unknown muscle 'quads'"):
        gs.ConstantExcitation({"quads": 0.5}).initial_memory(gs.build_model(), None, None)


def test_unknown_coordinate_and_parameter_names():
    m = gs.build_model()
    with pytest.raises(ValueError, match=r"unknown coordinate 'hip_r'.*hip_flexion_r"):
        gs.initial_state(m, {"hip_r": 0.1})
    with pytest.raises(ValueError, match=r"unknown parameter 'muscle.strength'"):
        gs.build_model(scale={"muscle.strength": 2.0})
    with pytest.raises(ValueError, match=r"limits.lower.*no element matches 'elbow'"):
        gs.build_model(parameters={"limits.lower.elbow": 0.0})


def test_wrong_shapes():
    with pytest.raises(ValueError, match=r"muscle\.optimal_fiber_length.*shape \(3,\).*allowed shapes"):
        gs.build_model(batch_size=2, parameters={"muscle.optimal_fiber_length": np.ones(3)})
    with pytest.raises(ValueError, match=r"inconsistent batch sizes"):
        gs.build_model(body_mass=np.array([70.0, 80.0]), height=np.array([1.7, 1.8, 1.9]))
    m = gs.build_model(batch_size=2)
    with pytest.raises(ValueError, match=r"q: expected shape \(10,\) or \(2, 10\)"):
        gs.initial_state(m, np.zeros(9))
    with pytest.raises(ValueError, match=r"initial_state: expected shape"):
        gs.simulate(m, duration=0.01, initial_state=np.zeros((3, 5)))


def test_out_of_range_values_name_the_range():
    with pytest.raises(ValueError, match=r"contact\.slide_friction: value -0.1 outside the allowed range \[0, 10\]"):
        gs.build_model(parameters={"contact.slide_friction": -0.1})
    with pytest.raises(ValueError, match=r"limits\.lower\.knee_angle_r must be below limits\.upper"):
        gs.build_model(parameters={"limits.lower.knee_angle_r": 0.5})
    with pytest.raises(ValueError, match=r"dt must lie in \[1e-7, 1e-2\] s"):
        gs.simulate(gs.build_model(), duration=0.1, dt=0.5)
    with pytest.raises(ValueError, match=r"duration must be a finite number > 0"):
        gs.simulate(gs.build_model(), duration=-1.0)
    with pytest.raises(ValueError, match=r"activation: values must lie in \[0.01, 1\]"):
        gs.initial_state(gs.build_model(), activation=2.0)


def test_per_walker_overrides_broadcast():
    m = gs.build_model(batch_size=3, scale={"muscle.tendon_slack_length.soleus_*": [1.0, 0.9, 0.8]},
                       parameters={"contact.slide_friction": 0.5})
    ls = m.params.element("muscle.tendon_slack_length", "soleus_l")
    np.testing.assert_allclose(ls / ls[0], [1.0, 0.9, 0.8])
    np.testing.assert_allclose(m.params["contact.slide_friction"], 0.5)
    # the right leg's soleus changed too, the gastrocnemius did not
    np.testing.assert_allclose(m.params.element("muscle.tendon_slack_length", "soleus_r"), ls)
    g = m.params.element("muscle.tendon_slack_length", "gastroc_r")
    np.testing.assert_allclose(g, g[0])


def test_body_scaling_with_mass_and_height():
    m = gs.build_model(body_mass=[60.0, 90.0], height=[1.6, 1.9])
    np.testing.assert_allclose(m.skeleton.mass_total, [60.0, 90.0])
    thigh = -m.params.element("body.joint_y", "knee_r")
    assert thigh[1] / thigh[0] == pytest.approx(1.9 / 1.6)
