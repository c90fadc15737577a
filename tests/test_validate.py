"""The validation against measured walking: each check computed from the walker's own curves and
the shipped measured stride, independently recomputed here; the table and figure render."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from gaitsim.cli import main  # noqa: E402
from gaitsim.data.reference_gait import reference_stride  # noqa: E402
from gaitsim.scenario import Scenario  # noqa: E402
from gaitsim.validate import heel_strike_peaks, validate  # noqa: E402


@pytest.fixture(scope="module")
def run():
    return Scenario.preset("healthy").run(duration=6.0)


def test_checks_are_recomputable(run):
    v = validate(run)
    checks = {c.name: c for c in v.checks}
    q = run.measures.curves["q"][0]
    knee = -np.degrees(q[:, 5])  # knee_angle_r, clinical sign
    meas = reference_stride()["knee_flexion_deg"]
    assert checks["knee angle: Pearson r"].value == pytest.approx(np.corrcoef(knee, meas)[0, 1])
    assert checks["knee angle: RMSE, absolute"].value == pytest.approx(np.sqrt(np.mean((knee - meas) ** 2)))
    hip_offset = np.degrees(q[:, 4]).mean() - reference_stride()["hip_flexion_deg"].mean()
    assert checks["hip angle: mean offset (gaitsim - measured)"].value == pytest.approx(hip_offset)
    r = checks["ankle angle: Pearson r"]
    assert r.met == (r.value >= 0.8)
    comp = checks["lumbar compression peak (free body of the trunk)"]
    assert comp.value == run.measures.value("lumbar_compression_peak_bw") and comp.met == (1.0 <= comp.value <= 2.5)
    shares = [c.value for name, c in checks.items() if name.startswith("lumbar compression: share from")]
    assert len(shares) == 4 and sum(shares) == pytest.approx(100.0, rel=1e-9)
    lag = checks["EMG timing: erector_spinae, shift of best agreement (+: late)"]
    best = float(lag.target.split()[1])  # "agreement 0.93 at that shift"
    plain = checks["EMG on/off agreement: erector_spinae"].value
    assert best >= plain - 0.011 and lag.met is None  # no shift agrees worse than none (one sample's rounding)


def test_heel_strike_peaks_are_stance_maxima_after_settling(run):
    peaks = heel_strike_peaks(run.results, run.model)
    bw = float(run.model.body_weight[0])
    fy = run.results["grf"][0, :, :, 1] / bw
    assert peaks.size >= 6  # about one per foot per step after 2 s
    assert np.all(peaks <= fy[run.results.time >= 2.0].max() + 1e-12) and np.all(peaks > 0.5)


def test_table_figure_and_command(run, tmp_path, capsys):
    v = validate(run)
    assert "| check | gaitsim |" in v.table("markdown") and "target / measured" in v.table()
    fig = v.figure()
    assert len(fig.axes) == len(v.curves) + 1 and "knee angle" in fig.axes[1].get_ylabel()
    labels = [t.get_text() for t in fig.axes[-1].get_yticklabels()]
    agree = next(c.value for c in v.checks if c.name == "EMG on/off agreement: soleus")
    assert labels[0].startswith(f"soleus {agree:.2f}")
    with pytest.raises(ValueError, match="table format"):
        v.table("html")
    assert main(["validate", "--duration", "4", "--out", str(tmp_path)]) == 0
    assert "EMG on/off agreement: soleus" in capsys.readouterr().out
    assert (tmp_path / "validation.png").stat().st_size > 1000


def test_a_walker_without_strides_is_refused():
    fallen = Scenario.preset("weak_dorsiflexors", 1.0).run(duration=1.5)
    with pytest.raises(ValueError, match="no measured stride"):
        validate(fallen)
