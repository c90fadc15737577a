"""tuned: the shipped walkers, their integrator and step, and per-walker solutions."""

import numpy as np
import pytest

import gaitsim as gs
from gaitsim.tuned import load_tuned, solver_options, tuned_dt, walker_from_solutions


def test_shipped_solutions_carry_their_integrator_and_step():
    ti, gh = load_tuned("trunk_initiated"), load_tuned("geyer_herr")
    assert tuned_dt(ti) == 5e-4 and tuned_dt(gh) == 5e-4
    assert solver_options(ti) == {"fiber_iterations": 3, "normal_contact": "active_set", "mechanics_substeps": 4,
                                  "damping_theta": 0.5}
    assert solver_options(gh) == solver_options(ti)  # one integrator for both walkers since gaitsim 0.8
    old = load_tuned("geyer_herr") | {"provenance": {"objective": {"dt": 2.5e-4, "fiber_iterations": 3}}}
    assert tuned_dt(old) == 2.5e-4 and solver_options(old)["mechanics_substeps"] == 1  # older files keep theirs
    assert solver_options(ti, mechanics_substeps=8)["mechanics_substeps"] == 8
    with pytest.raises(ValueError, match="unknown solver option"):
        solver_options(ti, substeps=2)
    with pytest.raises(ValueError, match="mode must be one of"):
        load_tuned("clock")


def test_per_walker_solutions():
    sol = load_tuned("trunk_initiated")
    other = {**sol, "gains": {**sol["gains"], "G_SOL": 2.0}}
    model = gs.build_model(batch_size=2)
    ctrl, x0 = walker_from_solutions(model, [sol, other])
    ctrl.bind_step(5e-4)
    ctrl.initial_memory(model, x0[:, :10].T, x0[:, 10:20].T)
    np.testing.assert_array_equal(ctrl.g["G_SOL"], [sol["gains"]["G_SOL"], 2.0])
    with pytest.raises(ValueError, match="expected 1 or 2 solutions"):
        walker_from_solutions(model, [sol, sol, sol])
    with pytest.raises(ValueError, match="share one controller mode"):
        walker_from_solutions(model, [sol, load_tuned("geyer_herr")], dt=5e-4)
