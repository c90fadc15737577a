"""Stick figures and animations of a walking result (matplotlib only; metres, seconds).

Segment positions come from the model's own kinematics: the absolute segment angles of
``skeleton.abs_from_rel``, the joint centres of ``model.skeleton.joint`` (``anthropometry.JOINTS``,
each in its parent's frame), the torso centre of mass of ``loads.torso_parameters`` and the heel and
ball contact spheres of ``state.sphere_kinematics``. Right is blue and left red (pyCGM2 /
gaitutils convention); functions return the Figure or the ``FuncAnimation`` and never call ``show``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

#: joint order of ``model.skeleton.joint`` (``anthropometry.JOINTS``)
_LUMBAR, _HIP, _KNEE, _ANKLE = 0, (1, 4), (2, 5), (3, 6)
#: GRF arrow length per body weight (m)
ARROW_M_PER_BW = 0.5


def _rotate(angle, vec):
    """Vectors ``vec`` (2,) rotated by ``angle`` (T,) rad: (T, 2)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([c * vec[0] - s * vec[1], s * vec[0] + c * vec[1]], axis=-1)


def segment_points(model, q) -> dict[str, np.ndarray]:
    """World positions (m, x forward, y up) of the stick-figure points of one walker.

    model: a one-walker ``Model`` (``select_walkers(model, i)``); q: (T, 10) OpenSim coordinates.
    Returns {name: (T, 2)} for ``pelvis`` (pelvis origin), ``lumbar``, ``neck`` (the torso axis
    through its centre of mass, drawn to twice the CoM distance from the lumbar joint), and per
    side s in (r, l): ``hip_s``, ``knee_s``, ``ankle_s``, ``heel_s``, ``ball_s`` (contact sphere
    centres) and ``heel_bottom_s``, ``ball_bottom_s`` (their lowest points).
    """
    from . import skeleton
    from .loads import torso_parameters
    from .state import sphere_kinematics

    q = np.atleast_2d(np.asarray(q, dtype=float))
    psi = skeleton.abs_from_rel(q.T)  # (10, T): x, y, then absolute body angles (names.BODIES order)
    joint = model.skeleton.joint[..., 0]  # (2, 7) m
    origin = psi[:2].T
    out = {"pelvis": origin, "lumbar": origin + _rotate(psi[2], joint[:, _LUMBAR])}
    tp = torso_parameters(model)
    com = np.array([float(np.ravel(tp["com_x"])[0]), float(np.ravel(tp["com_y"])[0])])
    out["neck"] = out["lumbar"] + _rotate(psi[3], 2.0 * com)
    spheres, _ = sphere_kinematics(model, q.T)  # (2 xy, 2 legs, 2 spheres, T)
    radius = model.contact.radius[..., 0]  # (2 legs, 2 spheres)
    for leg, side in enumerate(("r", "l")):
        femur, tibia = psi[4 + 3 * leg], psi[5 + 3 * leg]
        out[f"hip_{side}"] = origin + _rotate(psi[2], joint[:, _HIP[leg]])
        out[f"knee_{side}"] = out[f"hip_{side}"] + _rotate(femur, joint[:, _KNEE[leg]])
        out[f"ankle_{side}"] = out[f"knee_{side}"] + _rotate(tibia, joint[:, _ANKLE[leg]])
        for k, name in enumerate(("heel", "ball")):
            centre = spheres[:, leg, k].T
            out[f"{name}_{side}"] = centre
            out[f"{name}_bottom_{side}"] = centre - np.array([0.0, radius[leg, k]])
    return out


def _one_walker(result):
    """(Results, one-walker Model, body weight N) of a ``ScenarioResult``."""
    from .model import select_walkers

    model = result.model if result.model.batch_size == 1 else select_walkers(result.model, 0)
    return result.results, model, float(model.body_weight[0])


class _Figure:
    """The artists of one stick figure on an axes, updated in place frame by frame."""

    def __init__(self, ax, grf_arrows: bool):
        from .style import SIDE_COLORS

        self.trunk, = ax.plot([], [], color="0.25", lw=4, solid_capstyle="round")
        self.pelvis, = ax.plot([], [], color="0.25", lw=3)
        self.head, = ax.plot([], [], "o", color="0.25", ms=9)
        self.legs = {s: ax.plot([], [], color=SIDE_COLORS[s], lw=2.5, marker="o", ms=3,
                                solid_capstyle="round")[0] for s in ("l", "r")}  # left behind right
        self.feet = {s: ax.plot([], [], color=SIDE_COLORS[s], lw=2.5)[0] for s in ("l", "r")}
        self.arrows = {}
        if grf_arrows:
            for s in ("l", "r"):
                self.arrows[s] = ax.annotate("", xy=(0, 0), xytext=(0, 0), annotation_clip=False,
                                             arrowprops=dict(arrowstyle="-|>", color=SIDE_COLORS[s], lw=1.5,
                                                             alpha=0.8))

    def update(self, pts: dict, k: int, grf_bw=None, cop=None) -> list:
        """Draw frame ``k`` of the points (``segment_points``); grf_bw (T, 2 feet, 2) in body weights."""
        self.trunk.set_data(*np.stack([pts["lumbar"][k], pts["neck"][k]]).T)
        self.head.set_data([pts["neck"][k, 0]], [pts["neck"][k, 1] + 0.08])
        self.pelvis.set_data(*np.stack([pts["lumbar"][k], pts["hip_r"][k]]).T)
        for leg, s in enumerate(("r", "l")):
            chain = np.stack([pts[f"hip_{s}"][k], pts[f"knee_{s}"][k], pts[f"ankle_{s}"][k]])
            self.legs[s].set_data(*chain.T)
            foot = np.stack([pts[f"ankle_{s}"][k], pts[f"heel_bottom_{s}"][k], pts[f"ball_bottom_{s}"][k],
                             pts[f"ankle_{s}"][k]])
            self.feet[s].set_data(*foot.T)
            if s in self.arrows:
                f = grf_bw[k, leg] if grf_bw is not None else np.zeros(2)
                base = np.array([cop[k, leg], 0.0])
                visible = f[1] > 0.05
                self.arrows[s].set_visible(bool(visible))
                self.arrows[s].xy = tuple(base + ARROW_M_PER_BW * f)
                self.arrows[s].set_position(tuple(base))
        return [self.trunk, self.pelvis, self.head, *self.legs.values(), *self.feet.values(), *self.arrows.values()]


def _centre_of_pressure(res, idx, pts) -> np.ndarray:
    """(T, 2 feet) x (m) at the samples ``idx`` of each foot's vertical-force-weighted contact point
    (heel and ball sphere bottoms weighted by their normal forces, ``contact_force``, where saved);
    the ball where the foot is unloaded."""
    fn = res["contact_force"][0][idx, :, 1].reshape(-1, 2, 2) if "contact_force" in res.data else None
    out = np.empty((len(idx), 2))
    for leg, s in enumerate(("r", "l")):
        xs = np.stack([pts[f"heel_bottom_{s}"][:, 0], pts[f"ball_bottom_{s}"][:, 0]], axis=-1)
        if fn is None:
            out[:, leg] = xs[:, 1]
            continue
        w = np.clip(fn[:, leg], 0.0, None)
        total = w.sum(axis=-1)
        out[:, leg] = np.where(total > 0, (w * xs).sum(axis=-1) / np.where(total > 0, total, 1.0), xs[:, 1])
    return out


def _stride_times(result, n: int) -> np.ndarray:
    """``n`` times (s) evenly over the last measured right stride (heel strike to before the next);
    over the last second of the run when no stride was measured."""
    m = result.measures
    starts, ends = m.stride_start[0], m.stride_end[0]
    ok = np.isfinite(starts) & np.isfinite(ends)
    if ok.any():
        a, b = float(starts[ok][-1]), float(ends[ok][-1])
    else:
        t = result.results.time
        a, b = max(float(t[0]), float(t[-1]) - 1.0), float(t[-1])
    return a + (b - a) * np.arange(n) / n


def stick_figure(result, times=None, n: int = 8, grf: bool = True, walker_frame: bool = True):
    """A strip of stick figures of one walker: trunk, pelvis, thighs, shanks and feet (right blue,
    left red), the ground line and, with ``grf``, each foot's ground force as an arrow
    (``ARROW_M_PER_BW`` m per body weight) at its centre of pressure.

    result: a ``ScenarioResult``. times: instants in s; default ``n`` frames evenly over the last
    measured right stride, each titled with its % of that gait cycle. walker_frame: each panel
    centred on the pelvis (True) or all panels on the same world x range. Returns the Figure.
    """
    from .style import pyplot as _plt

    res, model, bw = _one_walker(result)
    t = res.time
    with_pct = times is None
    times = _stride_times(result, n) if times is None else np.atleast_1d(np.asarray(times, dtype=float))
    idx = np.clip(np.searchsorted(t, times), 0, t.size - 1)
    pts = segment_points(model, res["q"][0][idx])
    grf_bw = res["grf"][0][idx] / bw
    cop = _centre_of_pressure(res, idx, pts)
    plt = _plt()
    fig, axes = plt.subplots(1, len(idx), figsize=(1.35 * len(idx) + 0.6, 3.0), sharey=True, squeeze=False)
    axes = axes[0]
    for k, ax in enumerate(axes):
        cx = pts["pelvis"][k, 0] if walker_frame else float(np.mean(pts["pelvis"][:, 0]))
        half = 0.55 if walker_frame else 0.55 + float(np.ptp(pts["pelvis"][:, 0])) / 2
        ax.axhline(0.0, color="0.4", lw=1)
        _Figure(ax, grf).update(pts, k, grf_bw, cop)
        ax.set_xlim(cx - half, cx + half)
        ax.set_ylim(-0.05, 1.85)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_title(f"{100.0 * k / len(idx):.0f} %" if with_pct else f"{times[k]:.2f} s", fontsize=9)
        for spine in ("top", "right", "bottom"):
            ax.spines[spine].set_visible(False)
    axes[0].set_ylabel("height (m)")
    what = "% of the right gait cycle (right heel strike = 0 %)" if with_pct else "time"
    fig.suptitle(f"{result.scenario.name}: stick figures at {what}; right blue, left red"
                 + ("; arrows: ground force" if grf else ""), fontsize=9)
    fig.tight_layout()
    return fig


def animation(result, path=None, fps: int = 30, duration: float | None = None, start: float | None = None,
              grf: bool = True, dpi: int = 80):
    """Animate one walker (right blue, left red) with a ground line whose ticks show progression,
    the view following the pelvis. Frames are ``1/fps`` s apart in simulated time (real time).

    result: a ``ScenarioResult``; path: ``.gif`` (matplotlib ``PillowWriter``) or ``.mp4``
    (``FFMpegWriter``, needs ``ffmpeg`` on PATH; ValueError otherwise) or None to write nothing;
    duration: s shown (default: the whole run from ``start``, default its first sample).
    Returns the ``FuncAnimation`` (``anim.to_jshtml()`` shows it in a notebook).
    """
    from matplotlib import animation as mpl_animation

    from .style import pyplot as _plt

    writer = _writer(Path(path), fps) if path is not None else None  # bad paths fail before drawing
    res, model, bw = _one_walker(result)
    t = res.time
    t0 = float(t[0]) if start is None else float(start)
    t1 = float(t[-1]) if duration is None else min(float(t[-1]), t0 + float(duration))
    frame_times = np.arange(t0, t1 + 1e-9, 1.0 / fps)
    idx = np.clip(np.searchsorted(t, frame_times), 0, t.size - 1)
    pts = segment_points(model, res["q"][0][idx])
    grf_bw = res["grf"][0][idx] / bw
    cop = _centre_of_pressure(res, idx, pts)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.4, 4.2))
    x_lo, x_hi = float(pts["pelvis"][:, 0].min()) - 2.0, float(pts["pelvis"][:, 0].max()) + 2.0
    ax.axhline(0.0, color="0.4", lw=1)
    ticks = np.arange(np.floor(x_lo), x_hi, 0.25)
    ax.vlines(ticks, -0.04, 0.0, color="0.4", lw=1)
    ax.set_ylim(-0.05, 1.9)
    ax.set_aspect("equal")
    ax.set_xlabel("forward position (m)")
    ax.set_ylabel("height (m)")
    figure = _Figure(ax, grf)
    label = ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", fontsize=8)
    ax.set_title(f"{result.scenario.name} (right blue, left red)", fontsize=9)
    ax.set_xlim(pts["pelvis"][0, 0] - 0.9, pts["pelvis"][0, 0] + 0.9)
    fig.tight_layout()

    def draw(k):
        cx = pts["pelvis"][k, 0]
        ax.set_xlim(cx - 0.9, cx + 0.9)
        label.set_text(f"t = {t[idx[k]]:.2f} s")
        return figure.update(pts, k, grf_bw, cop) + [label]

    anim = mpl_animation.FuncAnimation(fig, draw, frames=len(idx), interval=1000.0 / fps, blit=False)
    if writer is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        anim.save(str(path), writer=writer, dpi=dpi)
    return anim


def _writer(path: Path, fps: int):
    """The matplotlib writer of a ``.gif`` (Pillow) or ``.mp4`` (ffmpeg) path."""
    from matplotlib import animation as mpl_animation

    suffix = path.suffix.lower()
    if suffix == ".gif":
        return mpl_animation.PillowWriter(fps=fps)
    if suffix == ".mp4":
        if shutil.which("ffmpeg") is None:
            raise ValueError("writing .mp4 needs ffmpeg on PATH; write a .gif instead")
        return mpl_animation.FFMpegWriter(fps=fps)
    raise ValueError(f"animation path must end in .gif or .mp4, got {path.name!r}")
