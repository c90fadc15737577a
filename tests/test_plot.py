"""Figures: every plot renders (Agg) with labelled axes, clinical signs and units (degrees, body
weights, N m/kg, W/kg, % gait cycle), references and legends; the curves drawn are the measures'
own; stick figures keep rigid segments; the animation writes a GIF; sweep maps mark failures."""

import shutil

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from gaitsim import plot  # noqa: E402
from gaitsim.data.reference_gait import reference_stride  # noqa: E402
from gaitsim.names import coordinate_index  # noqa: E402
from gaitsim.scenario import Scenario  # noqa: E402

BLUE = matplotlib.colors.to_rgba(plot.SIDE_COLORS["r"])


@pytest.fixture(scope="module")
def run():
    return Scenario.preset("healthy").run(duration=3.5)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _legend_texts(fig):
    return [t.get_text() for leg in fig.legends for t in leg.get_texts()]


def _simulated(ax, color=BLUE):
    """The solid simulated mean line of that colour on an axes."""
    lines = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-" and len(ln.get_xdata()) == 101
             and matplotlib.colors.to_rgba(ln.get_color()) == color]
    assert len(lines) == 1
    return np.asarray(lines[0].get_ydata())


def _dashed_x(ax, color=BLUE):
    return [ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_linestyle() == "--"
            and matplotlib.colors.to_rgba(ln.get_color()) == color]


def test_activations_with_emg_windows_toe_off_and_old_call(run):
    fig = plot.activations(run)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == len(plot.DEFAULT_MUSCLES)
    texts = _legend_texts(fig)
    assert plot.EMG_LABEL in texts and any(t.startswith("simulated right") for t in texts)
    assert any("toe-off" in t for t in texts)
    for ax in axes:
        assert ax.get_ylabel() == "activation (0-1)" and ax.get_xlim() == (0, 100)
        y = _simulated(ax)
        assert 0.0 <= y.min() and y.max() <= 1.0 and ax.get_ylim()[1] <= 1.0
        assert all(50 < x < 70 for x in _dashed_x(ax)) and _dashed_x(ax)  # toe-off near 60 %
    soleus = axes[0]
    assert soleus.get_title(loc="left") == "soleus_r" and len(soleus.patches) == 1  # one normative window, 7-51 %
    old = plot.activations(run.results, float(run.model.body_weight[0]))  # (Results, body weight) still works
    assert np.allclose(_simulated(old.axes[0]), _simulated(soleus))


def test_joint_angles_over_measured_stride(run):
    fig = plot.joint_angles(run, joints=("hip", "knee", "ankle", "pelvis_tilt", "lumbar"), sides=("r", "l"))
    hip, knee, ankle, pelvis, lumbar = fig.axes
    texts = _legend_texts(fig)
    assert plot.REFERENCE_LABEL in texts and "toe-off (measured)" in texts
    assert not any("normative mean" in t for t in texts)  # one subject: no invented SD
    assert any(t.startswith("simulated left") for t in texts)
    k = _simulated(knee)
    assert 40 < k.max() < 90 and "flex +" in knee.get_ylabel() and "deg" in knee.get_ylabel()
    expected = -np.degrees(run.measures.curves["q"][0, :, coordinate_index("knee_angle_r")])
    assert np.allclose(k, expected, atol=1e-9)  # the measures' own mean stride
    ref_line = [ln for ln in knee.get_lines() if ln.get_label() == plot.REFERENCE_LABEL][0]
    assert np.allclose(ref_line.get_ydata(), reference_stride()["knee_flexion_deg"])
    assert -30 < _simulated(ankle).min() and _simulated(ankle).max() < 30
    assert all(ax.get_xlim() == (0, 100) for ax in fig.axes) and "gait cycle" in lumbar.get_xlabel()
    with pytest.raises(ValueError, match="unknown joint"):
        plot.joint_angles(run, joints=("elbow",))


def test_joint_moments_and_powers_per_kg(run):
    moments = plot.joint_moments(run)
    assert all("N·m/kg" in ax.get_ylabel() for ax in moments.axes)
    ankle = _simulated(moments.axes[2])
    assert -3.0 < ankle.min() < -0.5  # plantarflexor moment in stance, dorsiflexor positive
    powers = plot.joint_powers(run, joints=("hip", "knee", "ankle", "lumbar"))
    assert all("W/kg" in ax.get_ylabel() for ax in powers.axes)
    assert 0.3 < _simulated(powers.axes[2]).max() < 8.0  # ankle push-off, W/kg
    assert plot.REFERENCE_LABEL in _legend_texts(powers)


def test_ground_force_in_body_weights(run):
    fig = plot.ground_force(run)
    vertical, fore_aft = fig.axes
    y = _simulated(vertical)
    assert 0.5 < y.max() < 4.0 and "BW" in vertical.get_ylabel()
    assert np.abs(_simulated(fore_aft)).max() < 1.0 and "braking" in fore_aft.get_ylabel()
    assert plot.REFERENCE_LABEL in _legend_texts(fig)


def test_lumbar_load_with_cappozzo_band(run):
    fig = plot.lumbar_load(run)
    comp, shear = fig.axes
    band = [p for p in comp.patches if "Cappozzo 1984" in p.get_label()]
    assert len(band) == 1
    ys = band[0].get_path().transformed(band[0].get_patch_transform()).vertices[:, 1]
    assert np.isclose(ys.min(), 1.0) and np.isclose(ys.max(), 2.5)
    assert any("Cappozzo 1984" in t for t in _legend_texts(fig))
    y = _simulated(comp)
    bw = float(run.model.body_weight[0])
    assert np.allclose(y, run.measures.curves["lumbar_compression"][0] / bw, rtol=1e-6)
    assert 1.0 < y.max() < 20.0 and "BW" in comp.get_ylabel() and "BW" in shear.get_ylabel()


def test_compare_curves_labels_and_kinetics(run):
    fig = plot.compare_curves([run, run], panels=plot.KINETICS_PANELS, labels=["first", "second"])
    assert len(fig.axes) == len(plot.KINETICS_PANELS)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["first", "second"]
    assert "N·m/kg" in fig.axes[0].get_ylabel() and "W/kg" in fig.axes[-1].get_ylabel()
    hip = fig.axes[0].get_lines()[0].get_ydata()
    mass = float(run.model.skeleton.mass_total[0])
    assert np.allclose(hip, run.measures.curves["joint_moment"][0, :, coordinate_index("hip_flexion_r")] / mass)
    with pytest.raises(ValueError, match="labels"):
        plot.compare_curves([run, run], labels=["only one"])


def test_stick_figure_strip(run):
    fig = plot.stick_figure(run, n=6)
    assert len(fig.axes) == 6 and [ax.get_title() for ax in fig.axes][:2] == ["0 %", "17 %"]
    for ax in fig.axes:
        ys = np.concatenate([np.asarray(ln.get_ydata(), float) for ln in ax.get_lines()])
        assert np.isfinite(ys).all() and ys.min() > -0.05 and ys.max() < 2.0
        colors = {matplotlib.colors.to_rgba(ln.get_color()) for ln in ax.get_lines()}
        assert BLUE in colors and matplotlib.colors.to_rgba(plot.SIDE_COLORS["l"]) in colors
    at_times = plot.stick_figure(run, times=[2.0, 2.5], grf=False)
    assert [ax.get_title() for ax in at_times.axes] == ["2.00 s", "2.50 s"]


def test_segments_are_rigid(run):
    from gaitsim.animate import segment_points

    pts = segment_points(run.model, run.results["q"][0])
    for a, b in (("hip_r", "knee_r"), ("knee_l", "ankle_l"), ("lumbar", "neck"), ("ankle_r", "ball_r")):
        length = np.linalg.norm(pts[b] - pts[a], axis=1)
        assert np.ptp(length) < 1e-9 and length.min() > 0.05
    assert pts["neck"][:, 1].min() > 1.2  # upright all along


def test_animation_writes_gif(run, tmp_path):
    from matplotlib.animation import FuncAnimation
    from PIL import Image

    path = tmp_path / "walk.gif"
    anim = plot.animation(run, path, fps=10, duration=0.2, start=2.0)
    assert isinstance(anim, FuncAnimation) and path.stat().st_size > 0
    with Image.open(path) as im:
        assert im.n_frames == 3
    with pytest.raises(ValueError, match="gif or .mp4"):
        plot.animation(run, tmp_path / "walk.avi", duration=0.1)
    if shutil.which("ffmpeg") is None:
        with pytest.raises(ValueError, match="ffmpeg"):
            plot.animation(run, tmp_path / "walk.mp4", duration=0.1)


def _sweep():
    xr = pytest.importorskip("xarray")
    slack = np.array([0.9, 1.0, 1.1])
    severity = np.array([0.0, 0.3, 0.6])
    speed = np.array([[1.2, 1.1, 1.0], [1.25, 1.15, 0.9], [1.3, 1.2, 0.8]])  # (calf_slack, severity)
    status = np.array([["ok", "ok", "fell"], ["ok", "ok", "ok"], ["ok", "diverged", "ok"]])
    return xr.Dataset({"speed": (("calf_slack", "severity"), speed, {"units": "m/s"}),
                       "status": (("calf_slack", "severity"), status)},
                      coords={"calf_slack": slack, "severity": severity})


@pytest.mark.parametrize("kind", ["heatmap", "contour"])
def test_sweep_map_marks_failed_points(kind):
    ds = _sweep()
    fig = plot.sweep_map(ds, "speed", x="severity", y="calf_slack", kind=kind)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "severity" and ax.get_ylabel() == "calf_slack"
    assert fig.axes[1].get_ylabel() == "speed (m/s)"  # the colour bar
    crosses = {ln.get_label(): (ln.get_xdata(), ln.get_ydata()) for ln in ax.get_lines() if ln.get_marker() == "x"}
    assert set(crosses) == {"fell (1)", "diverged (1)"}
    assert (crosses["fell (1)"][0][0], crosses["fell (1)"][1][0]) == (0.6, 0.9)
    assert (crosses["diverged (1)"][0][0], crosses["diverged (1)"][1][0]) == (0.3, 1.1)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["diverged (1)", "fell (1)"]
    if kind == "heatmap":
        z = ax.collections[0].get_array()
        assert np.ma.count_masked(z) == 2 and np.isclose(z.max(), 1.3)  # failed cells left blank


def test_sweep_map_needs_two_dimensions():
    ds = _sweep().expand_dims(body_mass=[60.0, 75.0])
    with pytest.raises(ValueError, match="select one value"):
        plot.sweep_map(ds, "speed", x="severity", y="calf_slack")
    fig = plot.sweep_map(ds.sel(body_mass=75.0), "speed", x="severity", y="calf_slack")
    assert fig.axes[0].get_title() == "speed over severity and calf_slack"
    with pytest.raises(ValueError, match="no measure"):
        plot.sweep_map(ds, "cadence", x="severity", y="calf_slack")
