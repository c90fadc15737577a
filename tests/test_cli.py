"""The command line: outputs, the integrator flags, and every bad-input and edge path (one line,
the option named, exit 2, no traceback; interrupted runs keep and label their results)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gaitsim.cli import main

ROOT = Path(__file__).resolve().parents[1]


def one_clean_line(err: str) -> str:
    """The stderr of a refused command: exactly one line, no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_drop_writes_outputs(tmp_path, capsys):
    code = main(["run", "drop", "--duration", "0.3", "--out", str(tmp_path)])
    assert code == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == ["ok"]
    assert summary["peak_vertical_grf_bw"][0] > 1.0
    assert (tmp_path / "overview.png").stat().st_size > 1000
    out = capsys.readouterr().out
    assert "final vertical GRF" in out and "BW" in out


def test_healthy_walks_with_units_and_every_file_named(tmp_path, capsys):
    code = main(["run", "healthy", "--duration", "4.0", "--out", str(tmp_path)])
    assert code == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == ["ok"] and 1.0 < summary["gait"]["speed_m_per_s"][0] < 1.6
    assert (tmp_path / "activations.png").stat().st_size > 1000
    out = capsys.readouterr().out
    assert "m/s" in out and "steps/min" in out
    wrote = [line for line in out.splitlines() if "wrote" in line][0]
    for name in ("results.npz", "scenario.toml", "summary.json", "overview.png", "activations.png"):
        assert name in wrote and (tmp_path / name).is_file()
    assert "backend:" in out


def test_integrator_flags_reach_the_run(tmp_path, capsys):
    code = main(["run", "healthy", "--duration", "3.0", "--out", str(tmp_path)])
    assert code == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == ["ok"]  # the walker runs with the integrator it was tuned with
    assert summary["integrator"] == {"fiber_iterations": 3, "normal_contact": "active_set", "mechanics_substeps": 4,
                                     "damping_theta": 0.5}
    assert summary["dt_s"] == 5e-4  # the step it was tuned at
    main(["run", "healthy", "--duration", "2.0", "--fiber-iterations", "0", "--normal-contact", "explicit",
          "--mechanics-substeps", "1", "--damping-theta", "1", "--dt", "2.5e-4", "--out", str(tmp_path)])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["integrator"] == {"fiber_iterations": 0, "normal_contact": "explicit", "mechanics_substeps": 1,
                                     "damping_theta": 1.0}
    assert summary["dt_s"] == 2.5e-4


@pytest.mark.parametrize("args, names", [
    (["--dt", "0"], ["--dt", "[1e-07, 0.01]"]),
    (["--dt", "abc"], ["--dt", "number"]),
    (["--duration", "-1"], ["--duration", "(0, 100000]"]),
    (["--duration", "nan"], ["--duration"]),
    (["--batch", "0"], ["--batch", "[1, 100000]"]),
    (["--body-mass", "-3"], ["--body-mass", "(0, 500]"]),
    (["--height", "9"], ["--height", "(0, 3]"]),
    (["--mechanics-substeps", "0"], ["--mechanics-substeps", "[1, 16]"]),
    (["--fiber-iterations", "50"], ["--fiber-iterations", "[0, 20]"]),
    (["--damping-theta", "0.2"], ["--damping-theta", "[0.5, 1]"]),
    (["--severity", "1.5"], ["--severity", "[0, 1]"]),
    (["--backend", "cuda"], ["--backend", "auto"]),
    (["--set", "calf_strech_gain=1"], ["calf_strech_gain"]),
    (["--set", "psoas_shortening=2"], ["psoas_shortening", "[0, 1]"]),
    (["--set", "nonsense"], ["--set", "knob=value"]),
])
def test_bad_option_is_one_line_naming_it(tmp_path, capsys, args, names):
    code = main(["run", "healthy", *args, "--out", str(tmp_path / "out")])
    assert code == 2
    line = one_clean_line(capsys.readouterr().err)
    for name in names:
        assert name in line
    assert not (tmp_path / "out" / "results.npz").exists()  # refused before any work


def test_bad_scenario_names_are_refused(tmp_path, capsys):
    assert main(["run", "helthy", "--out", str(tmp_path)]) == 2
    line = one_clean_line(capsys.readouterr().err)
    assert "helthy" in line and "'healthy'" in line  # the closest preset is suggested
    assert main(["run", str(tmp_path / "missing.toml"), "--out", str(tmp_path)]) == 2
    assert "missing.toml" in one_clean_line(capsys.readouterr().err)


def test_out_must_be_a_writable_folder(tmp_path, capsys):
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    assert main(["run", "drop", "--duration", "0.1", "--out", str(a_file)]) == 2
    assert "--out" in one_clean_line(capsys.readouterr().err) and a_file.read_text() == "x"
    assert main(["run", "drop", "--duration", "0.1", "--out", str(a_file / "below")]) == 2
    assert "cannot write" in one_clean_line(capsys.readouterr().err)


def test_a_walker_that_falls_gets_no_gait_figures_after_its_fall(tmp_path, capsys):
    with pytest.warns(UserWarning, match="tuned on a 75 kg"):
        code = main(["run", "healthy", "--body-mass", "300", "--duration", "2.5", "--out", str(tmp_path)])
    assert code == 1
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"][0].startswith("fell at")
    fell_at = float(summary["status"][0].split()[2])
    assert fell_at < 2.5
    gait = summary["gait"]
    assert gait["strides"][0] == 0 or gait["last_stride_end_s"][0] <= fell_at
    assert gait["speed_m_per_s"][0] is None  # no speed as if it had walked
    assert "before the fall" in capsys.readouterr().out


@pytest.mark.slow
def test_ctrl_c_keeps_and_labels_the_partial_run(tmp_path):
    """SIGINT to a running ``gaitsim run``: exit 130, 'interrupted at t = ...', results written."""
    proc = subprocess.Popen([sys.executable, "-m", "gaitsim", "run", "healthy", "--duration", "300",
                             "--out", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env={**os.environ, "MPLBACKEND": "Agg"},
                            # as in a terminal: a shell started in the background (nohup, `&`) ignores SIGINT,
                            # and the child would inherit that and never see the Ctrl-C this test sends
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 240
    for line in proc.stdout:  # wait until the simulation is under way
        if "s simulated" in line or time.time() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err
    assert "interrupted at t = " in err and "Traceback" not in err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["interrupted"] is True and 0 < summary["simulated_s"] < 300
    assert (tmp_path / "results.npz").is_file()


def test_help_has_an_example(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--help"])
    assert exit_.value.code == 0
    assert "gaitsim run tight_psoas" in capsys.readouterr().out


def test_calf_slack_example_runs():
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "calf_slack_sweep.py"), "--duration", "0.3",
                          "--factors", "1.0", "0.92"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    soleus = [float(l.split()[1]) for l in lines[1:]]
    assert soleus[1] > soleus[0]  # the shorter tendon carries more passive force


def test_plot_export_and_their_bad_input(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["run", "healthy", "--duration", "3.5", "--out", str(run)]) == 0
    assert main(["plot", str(run), "--figures", "joint_angles", "lumbar_load"]) == 0
    assert (run / "joint_angles.png").stat().st_size > 1000 and (run / "lumbar_load.png").is_file()
    assert main(["export", str(run), "--format", "mot", "csv", "--out", str(tmp_path / "x")]) == 0
    assert (tmp_path / "x" / "healthy.mot").read_text().count("endheader") == 1
    capsys.readouterr()
    assert main(["plot", str(tmp_path / "nothing")]) == 2
    assert "not a gaitsim run folder" in one_clean_line(capsys.readouterr().err)
    assert main(["export", str(run), "--format", "c3d"]) == 2
    assert "--format" in one_clean_line(capsys.readouterr().err)


def test_sweep_and_adapt_commands(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GAITSIM_CACHE", str(tmp_path / "cache"))
    (tmp_path / "s.toml").write_text('name = "tiny"\nduration = 2.5\n[sweep]\npsoas_tone = [0.0, 0.3]\n')
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "s.nc")]) == 0
    assert "2 ok" in capsys.readouterr().out and (tmp_path / "s.nc").is_file()
    assert main(["sweep", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "s.nc")]) == 2
    assert "no such sweep file" in one_clean_line(capsys.readouterr().err)
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "s.csv")]) == 2
    assert ".nc" in one_clean_line(capsys.readouterr().err)
    assert main(["adapt", "weak_dorsiflexors", "--severity", "0.3", "--generations", "1", "--popsize", "2",
                 "--seeds", "1", "--objective-duration", "0.4"]) == 0
    out = capsys.readouterr().out
    runnable = out.split("`gaitsim run ")[1].split("`")[0]
    assert main(["run", runnable, "--duration", "0.5", "--out", str(tmp_path / "adapted")]) in (0, 1)
    assert 'mode = "adapted"' in (tmp_path / "adapted" / "scenario.toml").read_text()
    assert main(["adapt", "stand"]) == 2
    assert "pose_hold" in one_clean_line(capsys.readouterr().err)
