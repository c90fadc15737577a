"""The load-shift study: where does the load go, acute and adapted, for both walking hypotheses?

For each controller (trunk-initiated, leg-driven Geyer-Herr) the script
1. re-tunes the healthy walker with the study's objective over several seeds (adapted mode's
   reference and its noise floor: healthy against healthy);
2. re-tunes every impairment along severity (continuation: 0.3 from healthy, 0.6 from 0.3, ...),
   all impairments of one severity sharing one batch per generation (``gaitsim.adapt.adapt_series``);
3. runs every scenario in acute mode (the healthy controller) and in adapted mode (each seed's
   controller) for ``--eval-duration`` seconds and compares the measures with the healthy walker
   (``gaitsim.compare``: in adapted mode a change within the spread over seeds is "no change");
4. writes ``docs/findings.md`` (per claim, mode and controller: the measured answer and the
   muscles that took the load) and figures into ``docs/figures/``.

Resumable: adapted solutions and the optimizer state live in ``$GAITSIM_CACHE/adapted``; run the
same command again after an interruption. The directions are outcomes: nothing here is tuned
toward an expected shift. ``GAITSIM_QUICK=1`` runs a tiny version (for the tests).

    python examples/load_shift_study.py --workers 2
    python examples/load_shift_study.py --controllers trunk_initiated --impairments stiff_calves --severities 0.3 0.6

``--start-from tuned.json`` adapts from another tuned solution of one controller instead of the
shipped walker (e.g. the Geyer-Herr search from the published gains in ``provenance/``); it
runs adapted mode only (acute mode is the shipped walker's) and keeps its adapted solutions in a
cache of their own (``$GAITSIM_CACHE/from_<file stem>``). A study with another adapted objective
(``--objective-set``, ``--metabolic-weight``) keeps its solutions in ``$GAITSIM_CACHE/objective_<hash>``
(the cache holds one solution per scenario and seed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import time
from pathlib import Path

from gaitsim.adapt import METABOLIC_WEIGHT, AdaptSettings, adapt, adapt_series
from gaitsim.compare import Comparison, compare
from gaitsim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
IMPAIRMENTS = ("stiff_calves", "calf_reflex_loss", "tight_psoas", "psoas_tone", "weak_dorsiflexors")
#: the mission's claims, each with the impairments it is about and the measures that answer it
CLAIMS = {
    "Stiff calves (and a blunted calf reflex) take push-off away and shift the work of bringing the thigh "
    "forward onto the psoas and hip flexors": (
        ("stiff_calves", "calf_reflex_loss"),
        ("ankle_a2_peak_r", "plantarflexors_r_work_pos", "psoas_r_impulse_per_m", "iliacus_r_impulse_per_m",
         "hip_flexion_moment_impulse_r", "hip_h3_work_r", "vasti_r_impulse_per_m", "glut_max_r_impulse_per_m",
         "hamstrings_r_impulse_per_m")),
    "A tight psoas (shorter, or raised tone) pulls the lumbar spine forward so the spinal extensors work "
    "harder and lumbar load rises": (
        ("tight_psoas", "psoas_tone"),
        ("erector_spinae_impulse_per_m", "erector_spinae_mean_activation", "lumbar_extension_moment_peak",
         "lumbar_compression_peak_bw", "lumbar_compression_mean_bw", "lumbar_shear_peak_anterior_bw",
         "psoas_compression_share", "erector_spinae_compression_share", "abdominals_compression_share",
         "pelvis_tilt_mean")),
    "Weak dorsiflexors make the hip flexors lift the knee higher for clearance": (
        ("weak_dorsiflexors",),
        ("knee_flexion_peak_swing_r", "min_toe_clearance_r", "psoas_r_impulse_per_m", "hip_flexion_moment_impulse_r",
         "hip_h3_work_r", "tib_ant_r_mean_activation")),
}
GAIT = ("speed", "cadence", "stride_length", "stance_pct_r", "cost_of_transport_with_basal")


def main(argv=None) -> int:
    quick = os.environ.get("GAITSIM_QUICK") == "1"
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--controllers", nargs="+", default=["trunk_initiated", "geyer_herr"])
    ap.add_argument("--impairments", nargs="+", default=list(IMPAIRMENTS), choices=IMPAIRMENTS)
    ap.add_argument("--severities", type=float, nargs="+", default=[0.3] if quick else [0.3, 0.6, 1.0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--generations", type=int, default=1 if quick else 15)
    ap.add_argument("--popsize", type=int, default=3 if quick else 8)
    ap.add_argument("--sigma", type=float, default=0.05)
    ap.add_argument("--objective-duration", type=float, default=0.6 if quick else 25.0,
                    help="s simulated per candidate (the healthy walker was tuned with 15-25 s and a second step; "
                         "the study uses the tuned step only, to halve the cost; with 10-s candidates most adapted "
                         "walkers of gaitsim 0.7 fell before the 30-s evaluation ended)")
    ap.add_argument("--metabolic-weight", type=float, default=METABOLIC_WEIGHT,
                    help="per J/(kg m): weight of adapted mode's effort, the metabolic cost of transport (Umberger "
                         "2010), which replaces the healthy tuning's activation cubed (gaitsim.adapt.METABOLIC_WEIGHT)")
    ap.add_argument("--objective-set", nargs=2, action="append", default=[], metavar=("FIELD", "VALUE"),
                    help="further override of the adapted objective (an optimize.Objective field), e.g. "
                         "--objective-set w_emg 0 for an objective without the EMG-timing term")
    ap.add_argument("--eval-duration", type=float, default=3.5 if quick else 30.0, help="s per evaluation run")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--start-from", default=None, metavar="TUNED_JSON",
                    help="adapt from this tuned solution (one controller, its mode) instead of the shipped walker; "
                         "adapted mode only")
    ap.add_argument("--out", default=str(ROOT / "docs" / "findings.md"))
    args = ap.parse_args(argv)
    args.start = None
    if args.start_from is not None:
        args.start = start_solution(args.start_from, args.controllers)
    if args.objective_set or args.metabolic_weight != METABOLIC_WEIGHT:  # another adapted objective
        key = json.dumps([args.metabolic_weight, sorted(args.objective_set)])
        cache_of_its_own(f"objective_{hashlib.sha256(key.encode()).hexdigest()[:10]}")
    modes = ("adapted",) if args.start is not None else ("acute", "adapted")
    objective = (("duration", args.objective_duration), ("also_dt", ()),
                 ("settle", min(10.0, args.objective_duration / 2)),
                 ("w_effort", 0.0), ("w_metabolic", args.metabolic_weight),
                 *((name, float(value)) for name, value in args.objective_set))
    settings = AdaptSettings(generations=args.generations, popsize=args.popsize, sigma0=args.sigma,
                             seeds=tuple(args.seeds), objective=objective)
    out = Path(args.out)
    figures = out.parent / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    lines = ["# Findings: where the load goes (generated by `examples/load_shift_study.py`)", "",
             f"Settings: controllers {', '.join(args.controllers)}; impairments {', '.join(args.impairments)}; "
             f"severities {', '.join(f'{s:g}' for s in args.severities)}; adapted mode: CMA-ES, {len(args.seeds)} "
             f"seeds x {args.popsize} candidates x {args.generations} generations, warm-started from "
             + (f"`{args.start_from}` (acute mode, the shipped walker's, not run)" if args.start else "the shipped walker")
             + f" and continued along severity, objective = the healthy walker's tuning objective with "
             f"{args.objective_duration:g} s per candidate at its tuned step only and its activation-cubed effort "
             f"replaced by the metabolic cost of transport (Umberger 2010) with weight {args.metabolic_weight:g} per "
             f"J/(kg m)"
             + "".join(f", {name} = {float(value):g}" for name, value in args.objective_set)
             + "; evaluation runs "
             f"{args.eval_duration:g} s. Changes from the healthy walker of the same mode, in % (angles: in degrees; % of "
             f"the cycle and shares: in percentage points, pp); in adapted mode the "
             f"healthy reference is itself re-tuned with these settings, values are means over seeds with "
             f"+/- half their range, and a change within the larger range is 'no change'.", ""]
    for controller in args.controllers:
        lines += study_controller(controller, args, settings, figures, modes)
    lines += ["", f"Wall time of this run: {time.perf_counter() - started:.0f} s on this machine "
                  f"({args.workers} worker process(es); adapted solutions taken from the cache cost no tuning time "
                  f"here, see 'Tuning the adapted solutions took' above)."]
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def start_solution(path: str, controllers) -> dict:
    """The tuned solution ``--start-from`` names, checked against the one controller it is for; its
    adapted solutions go to a cache of their own (the shipped walker's stay where they are)."""
    if len(controllers) != 1:
        raise SystemExit(f"--start-from: give exactly one --controllers (the solution's mode), got {controllers}")
    sol = json.loads(Path(path).read_text())
    if sol.get("mode") != controllers[0]:
        raise SystemExit(f"--start-from: {path} is a {sol.get('mode')!r} solution, not {controllers[0]!r}")
    cache_of_its_own(f"from_{Path(path).stem}")
    return sol


def cache_of_its_own(name: str) -> None:
    """Keep this study's adapted solutions in ``$GAITSIM_CACHE/<name>``: a store holds one solution
    per scenario and seed, and ``gaitsim run --mode adapted`` runs whichever is there."""
    from gaitsim.adapt import default_store

    os.environ["GAITSIM_CACHE"] = str(default_store().parent / name)


def study_controller(controller: str, args, settings: AdaptSettings, figures: Path, modes) -> list[str]:
    healthy = Scenario.preset("healthy", controller=controller)
    families = {name: (lambda s, name=name: Scenario.preset(name, s, controller=controller))
                for name in args.impairments}
    t0 = time.perf_counter()
    start = None if args.start is None else [args.start]
    healthy_sols = adapt([healthy], settings, bases=start, workers=args.workers)  # the adapted reference, noise floor
    series = adapt_series(families, args.severities, settings, start=args.start, workers=args.workers)
    lines = [f"## {controller.replace('_', '-')} walker", "",
             f"Tuning the adapted solutions took {tuning_seconds(healthy_sols, series):.0f} s (the generation times "
             f"each solution records; healthy: {len(args.seeds)} seeds; {len(args.impairments)} impairments x "
             f"{len(args.severities)} severities x {len(args.seeds)} seeds, one batch per severity); this run spent "
             f"{time.perf_counter() - t0:.0f} s on it with {args.workers} worker process(es) (solutions found in the "
             "cache cost nothing here)."]
    scenarios = [healthy] + [Scenario.preset(n, s, controller=controller, name=f"{n}@{s:g}")
                             for n in args.impairments for s in args.severities]
    results = {}
    for mode in modes:
        t0 = time.perf_counter()
        results[mode] = compare(scenarios, duration=args.eval_duration, mode=mode, seeds=args.seeds)
        lines.append(f"{mode.capitalize()} evaluation ({len(scenarios)} scenarios): {time.perf_counter() - t0:.0f} s.")
    lines += ["", "### What the adapted objective weighs", "", objective_table(healthy, settings), ""]
    lines += ["### Noise floor: healthy against healthy (adapted, spread over seeds)", "",
              noise_table(results["adapted"]), ""]
    lines += ["### Gait and survival", "", survival_table(results, args.eval_duration), ""]
    lines += [speed_check(results["adapted"], args.severities), ""]
    for claim, (impairments, measures) in CLAIMS.items():
        present = [i for i in impairments if i in args.impairments]
        if not present:
            continue
        lines += [f"### Claim: {claim}", ""]
        for mode in modes:
            sub = subset(results[mode], [0] + [k for k, s in enumerate(scenarios) if s.name.split("@")[0] in present])
            lines += [f"**{mode} mode**", "", sub.table("markdown", names=measures + GAIT), ""]
            lines += [reading(sub, measures), ""]
        if present[0] == "stiff_calves":
            lines += [literature(results, present), ""]
        name = f"{Path(args.out).stem}_{controller}_{present[0]}.png"
        plot_series(results, present, measures[:4], args.severities, figures / name)
        lines += [f"![{claim[:40]}](figures/{name})", ""]
        for mode in modes:
            curves = f"{Path(args.out).stem}_{controller}_{present[0]}_curves_{mode}.png"
            index = [0] + [k for k, s in enumerate(scenarios) if s.name.split("@")[0] in present]
            plot_curves(subset(results[mode], index), CURVE_PANELS[present[0]], figures / curves,
                        f"{controller.replace('_', '-')} walker, {mode} mode"
                        + (" (seed 1's controller per scenario)" if mode == "adapted" else ""))
            lines += [f"![{mode} curves]({'figures/' + curves})", ""]
    return lines


def tuning_seconds(healthy: list[list[dict]], series: dict) -> float:
    """What tuning the adapted solutions cost, s: each solution records its batch's wall time per
    generation (``history``), and the instances of one batch (the healthy seeds; one severity of
    every impairment) share it, so the cost is one solution's sum per batch. Solutions taken from
    the cache report what they cost when they were tuned."""
    def wall(sol):
        return sum(h.get("wall_s", 0.0) for h in sol.get("history", []))

    n_severities = len(next(iter(series.values())))
    return wall(healthy[0][0]) + sum(max(wall(per[k][0]) for per in series.values()) for k in range(n_severities))


def subset(c: Comparison, index: list[int]) -> Comparison:
    return Comparison([c.results[i] for i in index],
                      None if c.replicates is None else [c.replicates[i] for i in index])


def noise_table(c: Comparison) -> str:
    rows = ["| measure | healthy mean | range over seeds | range in % of mean |", "|---|---|---|---|"]
    for row in c.rows("headline"):
        mean, spread = row["healthy"], row["healthy spread"]
        pct = 100 * spread / abs(mean) if mean and math.isfinite(mean) and math.isfinite(spread) else float("nan")
        rows.append(f"| {row['measure']} ({row['unit']}) | {mean:.4g} | {spread:.3g} | {pct:.1f} |")
    return "\n".join(rows)


def survival_table(results: dict, duration: float) -> str:
    rows = ["| scenario | acute | adapted (per seed) |", "|---|---|---|"]
    acute, adapted = results.get("acute"), results["adapted"]
    for k, name in enumerate(adapted.names):
        seeds = "; ".join(r.status for r in adapted.replicates[k])
        rows.append(f"| {name} | {acute.results[k].status if acute else 'not run'} | {seeds} |")
    return "\n".join(rows) + f"\n\n(walked = 'ok' over {duration:g} s)"


def objective_table(healthy: Scenario, settings: AdaptSettings) -> str:
    """The adapted objective's terms on the adapted healthy walkers (mean over seeds): which part of
    the cost rewards walking like the measured subject and which part rewards low effort."""
    import numpy as np

    from gaitsim.adapt import load_adapted, search_space, tuned_objective
    from gaitsim.optimize import evaluate, weighted_terms

    objective = tuned_objective(healthy.controller, settings.objective)
    terms = {}
    for seed in settings.seeds:
        sol = load_adapted(healthy, seed)
        space = search_space(healthy, sol)
        out = evaluate(np.zeros((1, space.dimension)), space, objective)
        weighted = list(weighted_terms(out, objective).items())
        for k, cost in weighted[1:] + weighted[:1]:  # falling last
            weight = 100.0 if k == "falling" else getattr(objective, f"w_{k}")
            value = 1.0 - out["alive"][0] / objective.duration if k == "falling" else out[k][0]
            if weight > 0:
                terms.setdefault(k, []).append((weight, float(value), float(cost[0])))
    rows = ["| term | weight | value (mean over seeds) | weighted |", "|---|---|---|---|"]
    for k, v in terms.items():
        w, value, cost = (float(np.mean([x[i] for x in v])) for i in range(3))
        rows.append(f"| {k} | {w:g} | {value:.4g} | {cost:.3g} |")
    total = sum(float(np.mean([x[2] for x in v])) for v in terms.values())
    rows.append(f"| total | | | {total:.3g} |")
    return ("\n".join(rows) + "\n\nSpeed's value is the walker's speed (m/s) and its weighted cost uses the error "
            f"from {objective.target_speed:g} m/s; shape, offset, emg and amplitude compare with the measured "
            "healthy subject, so they pull an impaired walker toward healthy-looking gait; metabolic is the cost "
            "of transport at the target speed (J/(kg m)).")


def speed_check(adapted: Comparison, severities) -> str:
    """The issue's bar for adapted walkers: severities below 1 walk the whole evaluation at the
    healthy adapted walker's speed (mean over seeds) +/- 0.05 m/s. Lists every seed that misses it."""
    healthy = adapted.value("speed", 0)[0]
    misses, checked = [], 0
    for k, name in enumerate(adapted.names[1:], start=1):
        if float(name.split("@")[1]) >= 1.0:
            continue
        for seed, r in enumerate(adapted.replicates[k], start=1):
            checked += 1
            speed = r.measures.value("speed")
            if r.status != "ok" or not abs(speed - healthy) <= 0.05:
                misses.append(f"{name} seed {seed}: {r.status}, {speed:.3f} m/s")
    head = (f"Adapted walkers at severities below 1 that walked the whole evaluation within +/- 0.05 m/s of the "
            f"healthy adapted speed ({healthy:.3f} m/s): {checked - len(misses)} of {checked}.")
    return head + ("" if not misses else " Missed: " + "; ".join(misses) + ".")


#: the curves overlaid per claim (``gaitsim.plot.COMPARE_PANELS``)
CURVE_PANELS = {
    "stiff_calves": ("ankle", "ankle_power", "soleus", "hip", "hip_power", "psoas"),
    "tight_psoas": ("hip", "psoas", "erector_spinae", "lumbar_compression", "lumbar_shear"),
    "weak_dorsiflexors": ("ankle", "tib_ant", "knee", "hip", "psoas"),
}


def plot_curves(c: Comparison, panels, path: Path, title: str) -> None:
    """Mean gait-cycle curves of the healthy walker and the impaired ones overlaid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gaitsim.plot import compare_curves

    fig = compare_curves(c, panels=panels)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _said(row: dict, name: str) -> str:
    """A measure and its change in scenario ``name``: "+12%", "+2.1 deg", "-0.0412 BW"."""
    change, unit = row[name + " change"], row["change unit"]
    return f"{row['measure']} {change:+.0f}%" if unit == "%" else f"{row['measure']} {change:+.3g} {unit}"


def reading(c: Comparison, measures) -> str:
    """One line per impaired scenario: the measures that rose and fell beyond the noise floor."""
    out = []
    rows = c.rows(list(measures))
    for name in c.names[1:]:
        if all(not math.isfinite(r[name]) for r in rows):
            out.append(f"- {name}: no walker to measure (see the survival table)")
            continue
        up = [_said(r, name) for r in rows if r[name + " verdict"] == "changed" and r[name + " change"] > 0]
        down = [_said(r, name) for r in rows if r[name + " verdict"] == "changed" and r[name + " change"] < 0]
        same = [r["measure"] for r in rows if r[name + " verdict"] == "no change"]
        out.append(f"- {name}: up: {', '.join(up) or 'none'}; down: {', '.join(down) or 'none'}"
                   + (f"; no change beyond the noise floor: {', '.join(same)}" if same else ""))
    return "\n".join(out)


#: held-out directions from gait studies, to compare with (never to tune toward)
LITERATURE = ("Held-out literature directions: loss of push-off is compensated mostly at the knee and hip "
              "extensors (Huang et al. 2015; DeVita & Hortobagyi 2000), and severe plantarflexor contracture "
              "leads to toe walking with more hip and knee flexion (Ong et al. 2019).")
EXTENSORS = ("vasti_r_impulse_per_m", "glut_max_r_impulse_per_m", "hamstrings_r_impulse_per_m")
HIP_FLEXORS = ("psoas_r_impulse_per_m", "iliacus_r_impulse_per_m")


def literature(results: dict, impairments) -> str:
    """Per mode and impaired scenario: did the knee and hip extensors or the hip flexors take load
    beyond the noise floor? (The comparison the held-out literature asks for.)"""
    lines = [LITERATURE, ""]
    for mode in [m for m in ("acute", "adapted") if m in results]:
        c = results[mode]
        rows = {r["measure"]: r for r in c.rows(list(EXTENSORS + HIP_FLEXORS))}
        for name in c.names[1:]:
            if name.split("@")[0] not in impairments:
                continue
            up = lambda keys: [k.split("_r_")[0] for k in keys if rows[k][name + " verdict"] == "changed"  # noqa: E731
                               and rows[k][name + " change"] > 0]
            if all(not math.isfinite(rows[k][name]) for k in rows):
                lines.append(f"- {mode}, {name}: no walker to measure")
                continue
            lines.append(f"- {mode}, {name}: extensors up beyond the noise floor: {', '.join(up(EXTENSORS)) or 'none'}; "
                         f"hip flexors up: {', '.join(up(HIP_FLEXORS)) or 'none'}")
    return "\n".join(lines)


def plot_series(results: dict, impairments, measures, severities, path: Path) -> None:
    """Each measure against severity (0 = healthy), acute and adapted, one line per impairment."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(measures), figsize=(3.6 * len(measures), 3.2), squeeze=False)
    for ax, measure in zip(axes[0], measures):
        for mode, style in [(m, st) for m, st in (("acute", "--"), ("adapted", "-")) if m in results]:
            c = results[mode]
            for j, imp in enumerate(impairments):
                xs, ys, es = [0.0], [c.value(measure, 0)[0]], [c.value(measure, 0)[1] / 2]
                for s in severities:
                    k = c.names.index(f"{imp}@{s:g}")
                    v, spread = c.value(measure, k)
                    xs.append(s), ys.append(v), es.append(spread / 2)
                ax.errorbar(xs, ys, yerr=es, ls=style, marker="o", ms=3, color=f"C{j}", capsize=2,
                            label=f"{imp} ({mode})")
        unit = c.results[0].measures.units.get(measure, "")
        ax.set_title(f"{measure} ({unit})" if unit else measure, fontsize=8)
        ax.set_xlabel("severity")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
