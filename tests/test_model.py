"""model: building, selecting and stacking batches of walkers."""

import numpy as np
import pytest

import gaitsim as gs
from gaitsim.model import select_walkers, stack_models


def test_stack_is_the_inverse_of_select():
    model = gs.build_model(body_mass=[60.0, 75.0, 90.0], scale={"muscle.optimal_fiber_length.psoas_*": [1.0, 0.9, 0.8]})
    again = stack_models([select_walkers(model, i) for i in range(3)])
    for key, value in model.params.values.items():
        np.testing.assert_array_equal(again.params.values[key], value)
    np.testing.assert_array_equal(again.muscles.l_opt, model.muscles.l_opt)
    np.testing.assert_array_equal(again.skeleton.mass_total, model.skeleton.mass_total)


def test_stack_refuses_mixed_options_and_nothing():
    with pytest.raises(ValueError, match="differ in their options"):
        stack_models([gs.build_model(), gs.build_model(muscles=False)])
    with pytest.raises(ValueError, match="no models"):
        stack_models([])


def test_per_walker_parameters_and_their_errors():
    model = gs.build_model(batch_size=2, parameters={"contact.slide_friction": [0.5, 0.8]})
    np.testing.assert_array_equal(model.contact.slide_friction, [0.5, 0.8])
    with pytest.raises(ValueError, match="contact.slide_friction"):
        gs.build_model(parameters={"contact.slide_friction": -1.0})
    with pytest.raises(ValueError, match="unknown parameter 'muscle.nonsense'"):
        gs.build_model(parameters={"muscle.nonsense": 1.0})


def test_set_is_the_deprecated_name_of_parameters():
    with pytest.warns(DeprecationWarning, match="use parameters="):
        old = gs.build_model(batch_size=2, set={"contact.slide_friction": [0.5, 0.8]})
    np.testing.assert_array_equal(old.contact.slide_friction, [0.5, 0.8])
    with pytest.raises(TypeError, match="parameters= only"):
        gs.build_model(set={"contact.slide_friction": 0.5}, parameters={"contact.slide_friction": 0.6})
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['sett'\]"):
        gs.build_model(sett={"contact.slide_friction": 0.5})
