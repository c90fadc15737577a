"""Comparisons: the table's values and changes come from each scenario's own measures, in every
format; overlaid curves render with labelled axes; the compare and exam commands run."""

import csv
import io
import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from gaitsim.cli import main  # noqa: E402
from gaitsim.compare import Comparison, compare  # noqa: E402
from gaitsim.scenario import Scenario, run_batch  # noqa: E402


@pytest.fixture(scope="module")
def comparison():
    return compare(["healthy", Scenario.preset("tight_psoas", 0.3), "healthy"], duration=3.5)


def test_rows_are_each_scenarios_own_measures(comparison):
    ref, tight, again = comparison.results
    assert comparison.names == ["healthy", "tight_psoas", "healthy#2"]
    rows = {r["measure"]: r for r in comparison.rows()}
    speed = rows["speed"]
    assert speed["healthy"] == ref.measures.value("speed") and speed["tight_psoas"] == tight.measures.value("speed")
    expected = 100 * (tight.measures.value("speed") - ref.measures.value("speed")) / ref.measures.value("speed")
    assert speed["change unit"] == "%" and math.isclose(speed["tight_psoas change"], expected, rel_tol=1e-12)
    assert speed["healthy#2 change"] == 0.0  # the same scenario twice: no change
    single = Scenario.preset("tight_psoas", 0.3).run(duration=3.5)  # batch = single run
    assert single.measures.value("psoas_r_impulse") == tight.measures.value("psoas_r_impulse")


def test_angles_and_shares_change_as_differences_not_percentages(comparison):
    """A pelvis tilt near 0 deg would change by thousands of %: angles change in degrees, % of the
    cycle and shares in percentage points, magnitudes in %."""
    ref, tight, _ = comparison.results
    rows = {r["measure"]: r for r in comparison.rows(["pelvis_tilt_mean", "stance_pct_r", "psoas_compression_share",
                                                      "lumbar_shear_mean_bw", "psoas_r_impulse"])}
    tilt = rows["pelvis_tilt_mean"]
    assert tilt["change unit"] == "deg"
    difference = np.degrees(tight.measures.value("pelvis_tilt_mean") - ref.measures.value("pelvis_tilt_mean"))
    assert math.isclose(tilt["tight_psoas change"], difference, rel_tol=1e-12)
    assert rows["stance_pct_r"]["change unit"] == "pp" and rows["psoas_compression_share"]["change unit"] == "pp"
    share = 100 * (tight.measures.value("psoas_compression_share") - ref.measures.value("psoas_compression_share"))
    assert math.isclose(rows["psoas_compression_share"]["tight_psoas change"], share, rel_tol=1e-12)
    assert rows["lumbar_shear_mean_bw"]["change unit"] == "BW"  # a mean shear can change sign
    assert rows["psoas_r_impulse"]["change unit"] == "%"
    assert f"({tilt['tight_psoas change']:+.3g} deg)" in comparison.table(names=["pelvis_tilt_mean"])


def test_table_formats(comparison):
    text = comparison.table()
    assert "speed" in text and "m/s" in text and "healthy: ok" in text
    md = comparison.table("markdown")
    assert md.startswith("| measure | unit | healthy |")
    parsed = list(csv.DictReader(io.StringIO(comparison.table("csv", names="all"))))
    assert len(parsed) > 100 and {"measure", "unit", "change unit", "healthy", "tight_psoas change"} <= set(parsed[0])
    with pytest.raises(ValueError, match="table format"):
        comparison.table("html")
    with pytest.raises(ValueError, match="unknown measure"):
        comparison.rows(["no_such_measure"])


def test_a_fallen_scenario_is_reported_not_averaged():
    healthy, fallen = run_batch([Scenario.preset("healthy"), Scenario.preset("weak_dorsiflexors", 1.0)], duration=2.0)
    assert fallen.status.startswith("fell at")
    c = Comparison([healthy, fallen])
    row = {r["measure"]: r for r in c.rows()}["speed"]
    assert math.isnan(row["weak_dorsiflexors"]) and row["weak_dorsiflexors change"] is None
    assert "weak_dorsiflexors: fell at" in c.status_line()


def test_overlaid_curves(comparison):
    from gaitsim.plot import compare_curves

    fig = compare_curves(comparison, panels=("knee", "psoas", "lumbar_compression"))
    axes = fig.axes
    assert len(axes) == 3 and "knee flexion" in axes[0].get_ylabel() and "BW" in axes[2].get_ylabel()
    knee = axes[0].get_lines()[0].get_ydata()
    assert knee.max() > 40  # clinical sign: swing knee flexion positive, in degrees
    assert 1.0 < axes[2].get_lines()[0].get_ydata().max() < 20  # body weights, not newtons
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["healthy", "tight_psoas", "healthy#2"]
    assert np.allclose(axes[1].get_lines()[0].get_ydata(), comparison.results[0].measures.curves["activation"][0, :, 0])
    with pytest.raises(ValueError, match="unknown panel"):
        compare_curves(comparison, panels=("elbow",))


def test_compare_and_exam_commands(tmp_path, capsys):
    assert main(["compare", "healthy", "psoas_tone", "--severity", "0.3", "--duration", "3.5",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "psoas_tone (change)" in out and " %)" in out and " pp)" in out
    for name in ("comparison.csv", "comparison.md", "comparison.png"):
        assert (tmp_path / name).stat().st_size > 100
    assert main(["compare", "healthy", "--out", str(tmp_path)]) == 2
    assert "at least two scenarios" in capsys.readouterr().err
    assert main(["exam", "stiff_calves", "--severity", "1.0"]) == 0
    assert "ankle DF range, knee extended" in capsys.readouterr().out
    assert main(["exam", "stiff_calves", "--set", "calf_stiffness=3"]) == 2
    assert "[0, 1]" in capsys.readouterr().err


def test_seeds_whose_walker_fell_stay_out_of_the_mean():
    from types import SimpleNamespace

    def run(status, speed):
        return SimpleNamespace(results=SimpleNamespace(status=np.array([status])),
                               measures=SimpleNamespace(value=lambda key: speed, units={"speed": "m/s"}),
                               scenario=SimpleNamespace(name="x"))

    ref = [run(0, 1.0), run(0, 1.2), run(1, 0.1)]
    other = [run(1, 0.3), run(1, 0.2), run(1, 0.4)]
    c = Comparison([ref[0], other[0]], [ref, other])
    mean, spread = c.value("speed", 0)
    assert mean == pytest.approx(1.1) and spread == pytest.approx(0.2)
    assert all(math.isnan(v) for v in c.value("speed", 1))  # no seed walked
    single = Comparison([run(1, 0.3), run(0, 1.0)])
    assert single.value("speed", 0) == (0.3, 0.0)  # acute: the strides before the fall, as the status says
