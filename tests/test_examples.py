"""Every example script runs at reduced length (GAITSIM_QUICK=1) in a scratch folder."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
#: script -> extra arguments for the quick run
SCRIPTS = {
    "healthy_walk.py": [], "tight_psoas.py": [], "stiff_calves.py": [], "comparison.py": [],
    "clinical_exam.py": [], "adapted_demo.py": [], "small_sweep.py": [],
    "load_shift_acute.py": ["--duration", "3.5", "--presets", "stiff_calves", "--severities", "0.3"],
    "load_shift_study.py": ["--controllers", "trunk_initiated", "--impairments", "weak_dorsiflexors",
                            "--out", "findings.md"],
    "make_figures.py": ["--duration", "3.5", "--out", "figures"],
}


def test_every_example_is_listed():
    listed = set(SCRIPTS) | {"tune_healthy.py", "evaluate_gait.py", "push_robustness.py", "calf_slack_sweep.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} <= listed


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py") if "argparse" in p.read_text()))
def test_every_example_with_options_shows_its_help(script):
    """``--help`` works (argparse formats each option's help text; a bare % breaks it)."""
    out = subprocess.run([sys.executable, str(EXAMPLES / script), "--help"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "usage:" in out.stdout


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_example_runs(script, tmp_path):
    env = {**os.environ, "GAITSIM_QUICK": "1", "MPLBACKEND": "Agg", "GAITSIM_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, str(EXAMPLES / script), *SCRIPTS[script]], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip()
    if script == "load_shift_study.py":  # the findings carry the speed check and the overlaid curves
        text = (tmp_path / "findings.md").read_text()
        assert "within +/- 0.05 m/s of the healthy adapted speed" in text
        assert "Tuning the adapted solutions took" in text  # from the solutions' own generation times
        for mode in ("acute", "adapted"):
            assert (tmp_path / "figures" / f"findings_trunk_initiated_weak_dorsiflexors_curves_{mode}.png").stat().st_size


def test_study_from_another_start_runs_adapted_mode_in_its_own_cache(tmp_path):
    """``--start-from``: adapted mode only, from that solution, cached apart from the shipped walker's."""
    import json

    from gaitsim.tuned import load_tuned

    sol = load_tuned("trunk_initiated")
    sol["gains"]["kp_L"] *= 1.1
    (tmp_path / "other.json").write_text(json.dumps(sol))
    env = {**os.environ, "GAITSIM_QUICK": "1", "MPLBACKEND": "Agg", "GAITSIM_CACHE": str(tmp_path / "cache")}
    args = ["--controllers", "trunk_initiated", "--impairments", "weak_dorsiflexors", "--out", "findings.md"]
    out = subprocess.run([sys.executable, str(EXAMPLES / "load_shift_study.py"), *args, "--start-from", "other.json"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    text = (tmp_path / "findings.md").read_text()
    assert "warm-started from `other.json`" in text and "| not run |" in text and "**acute mode**" not in text
    stored = list((tmp_path / "cache" / "from_other" / "adapted").glob("*.json"))
    assert stored and not (tmp_path / "cache" / "adapted").exists()
    made = [json.loads(p.read_text()) for p in stored]
    assert made and not any(m["provenance"]["base"].startswith("shipped tuned") for m in made)
    wrong = subprocess.run([sys.executable, str(EXAMPLES / "load_shift_study.py"), *args, "--start-from", "other.json",
                            "--controllers", "geyer_herr"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert wrong.returncode != 0 and "not 'geyer_herr'" in wrong.stderr


def test_study_with_another_objective_keeps_its_own_cache(tmp_path):
    """The adapted store holds one solution per scenario and seed: a study with another objective
    must not overwrite the default study's solutions."""
    env = {**os.environ, "GAITSIM_QUICK": "1", "MPLBACKEND": "Agg", "GAITSIM_CACHE": str(tmp_path / "cache")}
    args = ["--controllers", "trunk_initiated", "--impairments", "weak_dorsiflexors", "--out", "findings.md",
            "--objective-set", "w_emg", "0"]
    out = subprocess.run([sys.executable, str(EXAMPLES / "load_shift_study.py"), *args], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert not (tmp_path / "cache" / "adapted").exists()
    [own] = list((tmp_path / "cache").glob("objective_*"))
    assert list((own / "adapted").glob("*_seed1.json"))
