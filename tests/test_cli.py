"""The command line and the shipped example run at reduced length."""

import json
import subprocess
import sys
from pathlib import Path

from gaitsim.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_cli_drop_writes_outputs(tmp_path, capsys):
    code = main(["run", "drop", "--duration", "0.3", "--out", str(tmp_path)])
    assert code == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == ["ok"]
    assert summary["peak_vertical_grf_bw"][0] > 1.0
    assert (tmp_path / "overview.png").stat().st_size > 1000
    assert "final_vertical_grf_bw" in capsys.readouterr().out


def test_cli_healthy_walks(tmp_path):
    code = main(["run", "healthy", "--duration", "4.0", "--out", str(tmp_path)])
    assert code == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == ["ok"] and 1.0 < summary["speed"][0] < 1.6
    assert (tmp_path / "activations.png").stat().st_size > 1000


def test_cli_bad_input_is_one_clear_line(tmp_path, capsys):
    code = main(["run", "stand", "--body-mass", "-3", "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "subject.body_mass" in err and "allowed range" in err


def test_calf_slack_example_runs():
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "calf_slack_sweep.py"), "--duration", "0.3",
                          "--factors", "1.0", "0.92"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    soleus = [float(l.split()[1]) for l in lines[1:]]
    assert soleus[1] > soleus[0]  # the shorter tendon carries more passive force


def test_cli_integrator_options(tmp_path, capsys):
    from gaitsim.compiled import available

    backend = "numba" if available() else "numpy"
    code = main(["run", "healthy", "--duration", "3.0", "--backend", backend, "--out", str(tmp_path)])
    assert code == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == ["ok"]  # the walker runs with the integrator it was tuned with
    assert summary["integrator"] == {"fiber_iterations": 3, "normal_contact": "active_set", "mechanics_substeps": 4,
                                     "damping_theta": 0.5}
    assert summary["dt_s"] == 5e-4  # the step it was tuned at
    code = main(["run", "healthy", "--duration", "2.0", "--backend", backend, "--fiber-iterations", "0",
                 "--normal-contact", "explicit", "--mechanics-substeps", "1", "--damping-theta", "1",
                 "--dt", "2.5e-4", "--out", str(tmp_path)])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["integrator"] == {"fiber_iterations": 0, "normal_contact": "explicit", "mechanics_substeps": 1,
                                     "damping_theta": 1.0}
    assert summary["dt_s"] == 2.5e-4
    code = main(["run", "healthy", "--duration", "3.0", "--mechanics-substeps", "0", "--out", str(tmp_path)])
    assert code == 2
    assert "mechanics_substeps must be an integer in [1, 16]" in capsys.readouterr().err
    code = main(["run", "healthy", "--duration", "3.0", "--fiber-iterations", "50", "--out", str(tmp_path)])
    assert code == 2
    assert "fiber_iterations must be an integer in [0, 20]" in capsys.readouterr().err
    code = main(["run", "healthy", "--duration", "1.0", "--out", str(tmp_path)])  # too short for a stride
    assert code == 2
    assert "--duration of 'healthy' must be at least 2 s" in capsys.readouterr().err
