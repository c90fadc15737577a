"""Render every figure of the README into ``docs/figures/``.

Healthy, tight psoas and stiff calves (severity 0.3, acute mode) walk as one batch; the healthy
walker gives the single-run figures (activations with normative EMG windows, joint angles,
moments and powers over the measured OpenSim subject01 stride, ground force, lumbar load, a
stick-figure strip and a walking GIF), the three together the comparison overlays. A 3 x 3 sweep of
psoas shortening and calf stiffness gives the sweep map when ``gaitsim.sweep`` is installed.

    python examples/make_figures.py                        # 10 s per walker
    python examples/make_figures.py --duration 6 --out /tmp/figures
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only

import matplotlib.pyplot as plt  # noqa: E402

from gaitsim import plot  # noqa: E402
from gaitsim.compare import compare  # noqa: E402
from gaitsim.scenario import Scenario  # noqa: E402

SEVERITY = 0.3
SWEEP_GRID = {"psoas_shortening": [0.0, 0.3, 0.6], "calf_stiffness": [0.0, 0.3, 0.6]}
SWEEP_MEASURE = "lumbar_compression_peak_bw"


def save(fig, out: Path, name: str, dpi: int = 110) -> None:
    path = out / name
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    print(f"  wrote {path}")


def single_run_figures(healthy, out: Path) -> None:
    save(plot.activations(healthy), out, "activations.png")
    save(plot.joint_angles(healthy, sides=("r", "l")), out, "joint_angles.png")
    save(plot.joint_angles(healthy, joints=("pelvis_tilt", "lumbar")), out, "trunk_angles.png")
    save(plot.joint_moments(healthy), out, "joint_moments.png")
    save(plot.joint_powers(healthy), out, "joint_powers.png")
    save(plot.ground_force(healthy, sides=("r", "l")), out, "ground_force.png")
    save(plot.lumbar_load(healthy), out, "lumbar_load.png")
    save(plot.stick_figure(healthy, n=8), out, "stick_figure.png")
    t_end = float(healthy.results.time[-1])
    anim = plot.animation(healthy, out / "walking.gif", fps=20, duration=2.5, start=max(0.0, t_end - 3.0), dpi=75)
    plt.close("all")  # the animation's figure
    print(f"  wrote {out / 'walking.gif'}")


def comparison_figures(cmp, out: Path) -> None:
    labels = [cmp.names[0]] + [f"{name} (severity {SEVERITY:g})" for name in cmp.names[1:]]
    for panels, name in ((None, "comparison.png"), (plot.KINETICS_PANELS, "comparison_kinetics.png")):
        fig = plot.compare_curves(cmp, labels=labels, **({"panels": panels} if panels else {}))
        fig.suptitle("acute mode: the healthy controller walks each body", fontsize=10)
        fig.tight_layout()
        save(fig, out, name)


def sweep_figure(out: Path, duration: float) -> None:
    try:
        from gaitsim.sweep import sweep
    except ImportError:
        print("  note: gaitsim.sweep is not installed; skipped sweep_map.png")
        return
    ds = sweep(Scenario.preset("healthy"), SWEEP_GRID, duration=duration, progress=False, curves=False)
    save(plot.sweep_map(ds, SWEEP_MEASURE, x="psoas_shortening", y="calf_stiffness"), out, "sweep_map.png")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=10.0, help="simulated seconds per walker (default 10)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "figures")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    cmp = compare(["healthy", "tight_psoas", "stiff_calves"], duration=args.duration, severity=SEVERITY)
    print(f"simulated {len(cmp.results)} walkers x {args.duration:g} s in {time.perf_counter() - t0:.1f} s: "
          + cmp.status_line())
    single_run_figures(cmp.results[0], args.out)
    comparison_figures(cmp, args.out)
    sweep_figure(args.out, min(args.duration, 6.0))
    print(f"done in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
