"""What a new user meets first: gaitsim imports and runs without numba, and the Python API's bad
input is refused at construction, naming the field and what is allowed."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gaitsim as gs

ROOT = Path(__file__).resolve().parents[1]

# numba made unimportable in a fresh interpreter (an entry of None in sys.modules makes import fail)
WITHOUT_NUMBA = "import sys; sys.modules['numba'] = None\n"


def run_python(code: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, "MPLBACKEND": "Agg"})


def test_import_and_backend_choice_without_numba():
    out = run_python(WITHOUT_NUMBA + (
        "import gaitsim, gaitsim.scenario, gaitsim.cli, gaitsim.compiled as c\n"
        "assert not c.available()\n"
        "print(gaitsim.SemiImplicitEuler().backend)\n"
        "try:\n"
        "    gaitsim.SemiImplicitEuler(backend='numba')\n"
        "except ImportError as e:\n"
        "    print('refused:', e)\n"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "numpy"  # auto falls back
    assert "refused: the numba backend needs numba" in out.stdout


@pytest.mark.slow
def test_healthy_run_without_numba(tmp_path):
    out = run_python(WITHOUT_NUMBA + (
        "from gaitsim.cli import main\n"
        f"sys.exit(main(['run', 'healthy', '--duration', '3', '--out', {str(tmp_path)!r}]))\n"))
    assert out.returncode == 0, out.stderr
    assert "backend: numpy (numba is not installed" in out.stdout
    assert (tmp_path / "summary.json").is_file() and (tmp_path / "activations.png").is_file()


def test_misspelled_reflex_gain_is_refused_at_construction():
    from gaitsim.reflex import ReflexController

    with pytest.raises(ValueError, match=r"unknown reflex gain 'calf_strech_gain' \(did you mean 'calf_stretch_gain'"):
        ReflexController(gains={"calf_strech_gain": 0.5})


def test_batch_size_mismatch_names_the_fields():
    with pytest.raises(ValueError, match=r"2 from body_mass.*3 from muscle.max_isometric_force.soleus_r|"
                                         r"2 from subject.body_mass; 3 from muscle.max_isometric_force.soleus_r"):
        gs.build_model(body_mass=[70.0, 80.0], scale={"muscle.max_isometric_force.soleus_r": [1.0, 0.9, 0.8]})


def test_results_name_their_fields_and_files(tmp_path):
    res = gs.simulate(gs.build_model(), duration=0.002, save=gs.SaveEvery(1, ("q",)))
    with pytest.raises(KeyError, match="no field 'force'.*available: q"):
        res["force"]
    with pytest.raises(KeyError, match="not saved in this run"):
        res["grf"]
    with pytest.raises(FileNotFoundError, match="no file .*missing.npz"):
        gs.Results.load(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_text("not a results file")
    with pytest.raises(ValueError, match="not a results file"):
        gs.Results.load(tmp_path / "junk.npz")


def test_results_select_and_concatenate_invert_each_other():
    model = gs.build_model(batch_size=3, scale={"muscle.max_isometric_force.soleus_*": [1.0, 0.9, 0.8]})
    res = gs.simulate(model, duration=0.003, save=gs.SaveEvery(1))
    again = gs.Results.concatenate([res.select(i) for i in range(3)])
    for k in res.data:
        np.testing.assert_array_equal(again[k], res[k])
    np.testing.assert_array_equal(again.params["muscle.max_isometric_force"], res.params["muscle.max_isometric_force"])


def test_body_far_from_the_tuned_one_warns_once():
    import warnings

    from gaitsim.tuned import BodyOutOfRangeWarning, healthy_walker

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        healthy_walker(gs.build_model(body_mass=[75.0, 90.0, 300.0]))
    relevant = [w for w in caught if issubclass(w.category, BodyOutOfRangeWarning)]
    assert len(relevant) == 1 and "adapted mode" in str(relevant[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        healthy_walker(gs.build_model(body_mass=75.0, height=1.75))  # the tuned body: no warning
