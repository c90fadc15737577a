"""Refactoring does not change results: 2 s of each shipped walker on both backends equal, bit for
bit, what the code before the step-state refactor computed (``tests/data/before_0_8.npz``, written
by ``tests/data/write_bit_identity_reference.py`` on commit b0fb397: gaitsim 0.7's structure with
0.8's contact damping and walkers; the trunk-initiated entries rewritten for gaitsim 0.9's stage-16
walker, after the Geyer-Herr entries were checked unchanged with 0.9's code). The 0.7 refactor was
checked the same way against 0.6."""

from pathlib import Path

import numpy as np
import pytest

import gaitsim as gs
from gaitsim.compiled import available
from gaitsim.tuned import healthy_walker, tuned_integration

REFERENCE = Path(__file__).parent / "data" / "before_0_8.npz"


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("mode", ["trunk_initiated", "geyer_herr"])
def test_two_seconds_of_each_shipped_walker_are_unchanged(mode, backend):
    if backend == "numba" and not available():
        pytest.skip("numba not installed")
    model = gs.build_model(batch_size=1)
    ctrl, x0 = healthy_walker(model, mode=mode, backend=backend)
    res = gs.simulate(model, ctrl, duration=2.0, initial_state=x0, save=gs.SaveEvery(100, ("q", "muscle_force", "grf")),
                      **tuned_integration(mode, backend=backend))
    with np.load(REFERENCE) as ref:
        for field in ("q", "muscle_force", "grf"):
            np.testing.assert_array_equal(res[field], ref[f"{mode}/{backend}/{field}"])
        np.testing.assert_array_equal(res.final_state, ref[f"{mode}/{backend}/final_state"])
