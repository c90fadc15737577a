"""Command line: ``gaitsim run``, ``compare``, ``exam``, ``adapt``, ``validate``, ``sweep``, ``plot``,
``export`` (also ``python -m gaitsim``).

``gaitsim compare A B ...`` runs scenarios in acute mode and prints every headline measure with
its change from the first (in %, or in degrees and percentage points); ``gaitsim exam SCENARIO``
prints the virtual clinical exams of a scenario's body beside cited normal values.

``gaitsim run SCENARIO|FILE.toml``: simulate a preset (``healthy``, ``tight_psoas``,
``stiff_calves+tight_psoas``, ``stand``, ...) or a scenario file, print a summary with units and
write ``results.npz``, the resolved ``scenario.toml`` (which reproduces the run),
``summary.json`` and figures into ``--out``. Bad input gets one line naming the option and what
is allowed, and exit status 2; a run stopped with Ctrl-C keeps and labels what it did and exits
with 130; a run in which a walker fell exits with 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

from .integrate import DAMPING_THETA_RANGE, NORMAL_CONTACT, SOLVER_OPTIONS

EXIT_OK, EXIT_FELL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with its errors as one line (no usage block) and exit status 2."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def _number(kind, low: float, high: float, unit: str = "", low_open: bool = False):
    """An argparse type: a finite ``kind`` (int or float) in [low, high] ((low, high] if low_open)."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        bad = not math.isfinite(value) or value > high or value < low or (low_open and value == low)
        if bad:
            bracket = "(" if low_open else "["
            raise argparse.ArgumentTypeError(f"must lie in {bracket}{low:g}, {high:g}]{' ' + unit if unit else ''}, "
                                             f"got {text}")
        return value

    parse.__name__ = "number"
    return parse


def _setting(text: str) -> tuple[str, object]:
    """``knob=value`` of ``--set``: the value as a number when it reads as one, else as text."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected knob=value, got {text!r}")
    key, value = text.split("=", 1)
    try:
        number = float(value)
        return key.strip(), int(number) if value.strip().isdigit() else number
    except ValueError:
        return key.strip(), value.strip()


def add_solver_arguments(parser: argparse.ArgumentParser, default: str = "what the walker was tuned with") -> None:
    """The ``SemiImplicitEuler`` option flags (``--fiber-iterations``, ``--normal-contact``,
    ``--mechanics-substeps``, ``--damping-theta``), each None unless given; ``default`` says in the
    help what None stands for. ``solver_overrides`` collects them."""
    from .integrate import MAX_FIBER_ITERATIONS, MAX_MECHANICS_SUBSTEPS

    low, high = DAMPING_THETA_RANGE
    parser.add_argument("--fiber-iterations", type=_number(int, 0, MAX_FIBER_ITERATIONS), default=None,
                        help=f"Newton iterations of a backward-Euler fibre step, 0: linearly implicit "
                             f"(default: {default})")
    parser.add_argument("--normal-contact", default=None, choices=list(NORMAL_CONTACT),
                        help=f"active_set: decide which contact spheres push with the end-of-step velocity; "
                             f"explicit: with the start-of-step one (default: {default})")
    parser.add_argument("--mechanics-substeps", type=_number(int, 1, MAX_MECHANICS_SUBSTEPS), default=None,
                        help=f"sub-steps of the skeleton and contact per --dt, muscles and controller once per "
                             f"--dt (default: {default})")
    parser.add_argument("--damping-theta", type=_number(float, low, high), default=None,
                        help=f"where in a sub-step the damping forces take their speeds, in [{low}, {high}]: "
                             f"{high} backward Euler, {low} trapezoidal (default: {default})")


def solver_overrides(args: argparse.Namespace) -> dict:
    """The ``SemiImplicitEuler`` options given on the command line (``add_solver_arguments``)."""
    return {k: getattr(args, k) for k in SOLVER_OPTIONS if getattr(args, k, None) is not None}


def _add_scenario_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by the commands that build scenarios."""
    from .compiled import BACKEND_CHOICES
    from .scenario import CONTROLLERS, DT_RANGE

    p.add_argument("--severity", type=_number(float, 0.0, 1.0), default=None,
                   help="severity (0-1) of every impairment of a preset (default 0.6)")
    p.add_argument("--set", dest="settings", action="append", type=_setting, default=[], metavar="KNOB=VALUE",
                   help="change a scenario field, impairment knob, reflex gain, integrator option or raw parameter, "
                        "e.g. --set psoas_shortening=0.3 --set muscle.passive_stiffness.soleus_r=2 (repeatable)")
    p.add_argument("--duration", type=_number(float, 0.0, 1e5, "s", low_open=True), default=None,
                   help="simulated time in s (default: the scenario's)")
    p.add_argument("--dt", type=_number(float, *DT_RANGE, "s"), default=None,
                   help="integration step in s (default: the step the walker was tuned at)")
    p.add_argument("--body-mass", type=_number(float, 0.0, 500.0, "kg", low_open=True), default=None, help="kg")
    p.add_argument("--height", type=_number(float, 0.0, 3.0, "m", low_open=True), default=None, help="m")
    p.add_argument("--controller", default=None, choices=list(CONTROLLERS),
                   help="which controller walks: the tuned trunk-initiated or leg-driven (Geyer-Herr) reflex walker")
    p.add_argument("--mode", default=None, choices=["acute", "adapted"],
                   help="acute (default): the shipped controller walks the changed body; adapted: the controller "
                        "re-tuned for it by `gaitsim adapt`")
    p.add_argument("--seed", type=_number(int, 0, 2**31 - 1), default=None,
                   help="adapted mode: which seed's re-tuned controller runs (default 1)")
    p.add_argument("--backend", default=None, choices=list(BACKEND_CHOICES),
                   help="auto (default): compiled numba kernels when numba imports, else numpy")
    add_solver_arguments(p, default="what the walker was tuned with")


def build_scenario(name: str, args: argparse.Namespace, *, field: str = "SCENARIO"):
    """The scenario named on the command line (a preset or a ``.toml`` file) with the options'
    changes applied. ValueError names what is wrong."""
    from .scenario import Scenario

    if name.endswith(".toml") or Path(name).is_file():
        if not Path(name).is_file():
            raise ValueError(f"{field}: no scenario file {name!r}")
        scenario = Scenario.load(name)
        if args.severity is not None:
            raise ValueError("--severity applies to presets; set each impairment's severity with --set knob=value")
    else:
        scenario = Scenario.preset(name, args.severity)
    settings = dict(args.settings)
    for option, key in (("duration", "duration"), ("dt", "dt"), ("body_mass", "body_mass"), ("height", "height"),
                        ("controller", "controller"), ("backend", "backend"), ("mode", "mode"), ("seed", "seed")):
        if getattr(args, option) is not None:
            settings[key] = getattr(args, option)
    settings.update(solver_overrides(args))
    return scenario.with_settings(settings) if settings else scenario


def _output_folder(text: str) -> Path:
    """``--out``: a folder that exists or can be made, and is writable (checked before any work)."""
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise UsageError(f"gaitsim: --out {text}: exists and is not a folder; give a folder path")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".gaitsim_write_test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise UsageError(f"gaitsim: --out {text}: cannot write there ({e.strerror or e})") from None
    return out


def _backend_line(backend: str) -> str:
    """One line saying which backend runs, and that the first numba run compiles."""
    from .compiled import available, kernels_cached

    if backend == "numba":
        if kernels_cached():
            return "backend: numba (compiled kernels)"
        return "backend: numba (compiling kernels, first run only: about a minute)"
    reason = "" if available() else " (numba is not installed: pip install numba for compiled kernels)"
    return f"backend: numpy{reason}"


def _progress_printer():
    last = [0.0]

    def progress(done, total):
        if done - last[0] >= 0.1 * total or done >= total:
            last[0] = done
            print(f"  {done:6.2f} / {total:.2f} s simulated", flush=True)

    return progress


def _run(args) -> int:
    from .scenario import run_batch

    scenario = build_scenario(args.scenario, args)
    out = _output_folder(args.out)
    resolved = scenario.resolved()
    walking = resolved.controller != "pose_hold"
    print(f"gaitsim run {scenario.name}: {scenario.description or 'scenario'}; {args.batch} walker(s), "
          f"{resolved.duration:g} s, dt {resolved.dt:g} s", flush=True)
    print(f"  {_backend_line(resolved.backend)}", flush=True)
    started = time.perf_counter()
    results = run_batch([scenario] * args.batch, progress=_progress_printer())
    wall = time.perf_counter() - started
    first = results[0]
    res, model = first.results, first.model
    from .summary import run_summary

    summary = run_summary(results, wall_time=wall, walking=walking)
    written = [out / "results.npz", out / "scenario.toml", out / "summary.json"]
    from .results import Results

    merged = Results.concatenate([r.results for r in results]) if len(results) > 1 else res
    merged.save(written[0])
    resolved.save(written[1])
    written[2].write_text(json.dumps(summary, indent=2))
    import matplotlib

    matplotlib.use("Agg")  # the command line draws to files only
    from .plot import activations, overview

    overview(res, float(model.body_weight[0])).savefig(out / "overview.png", dpi=90)
    written.append(out / "overview.png")
    if walking and res.time.size and res.time[-1] > resolved.skip:
        activations(res, float(model.body_weight[0])).savefig(out / "activations.png", dpi=90)
        written.append(out / "activations.png")
    from .summary import print_summary

    print_summary(summary)
    print(f"  wrote {', '.join(str(p) for p in written)}")
    if res.interrupted:
        print(f"gaitsim: interrupted at t = {res.t_end:.3f} s of {resolved.duration:g} s; the files above hold "
              f"what was simulated", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK if all(r.results.status[0] == 0 for r in results) else EXIT_FELL


def _compare(args) -> int:
    from .compare import compare

    scenarios = [build_scenario(name, args) for name in args.scenarios]
    out = _output_folder(args.out) if args.out else None
    if len(scenarios) < 2:
        raise UsageError("gaitsim compare: give at least two scenarios (the first is the reference)")
    print(f"gaitsim compare: {', '.join(s.name for s in scenarios)} (reference: {scenarios[0].name}); "
          f"{_backend_line(scenarios[0].resolved().backend)}", flush=True)
    comparison = compare(scenarios, mode=args.mode or "acute", progress=_progress_printer())
    names = "all" if args.all else "headline"
    print(comparison.table(args.format, names=names))
    if out is not None:
        (out / "comparison.csv").write_text(comparison.table("csv", names="all"))
        (out / "comparison.md").write_text(comparison.table("markdown", names=names))
        for i, r in enumerate(comparison.results):
            r.scenario.save(out / f"scenario_{i}_{comparison.names[i].replace('+', '_').replace('#', '_')}.toml")
        import matplotlib

        matplotlib.use("Agg")  # the command line draws to files only
        from .plot import compare_curves

        compare_curves(comparison).savefig(out / "comparison.png", dpi=90)
        print(f"  wrote {out / 'comparison.csv'}, {out / 'comparison.md'}, {out / 'comparison.png'} and the "
              f"resolved scenarios")
    if any(r.results.interrupted for r in comparison.results):
        print("gaitsim: interrupted; the table holds what was simulated", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _exam(args) -> int:
    scenario = build_scenario(args.scenario, args)
    print(f"gaitsim exam {scenario.name}: virtual clinical exams of the relaxed model "
          f"({scenario.description or 'scenario'})")
    print(scenario.exam().table())
    return EXIT_OK


def _adapt(args) -> int:
    from .adapt import AdaptSettings, adapt, adapted_key, default_store

    scenario = build_scenario(args.scenario, args)
    objective = (("duration", args.objective_duration),) if args.objective_duration else ()
    settings = AdaptSettings(generations=args.generations, popsize=args.popsize, sigma0=args.sigma,
                             seeds=tuple(args.seeds), objective=objective)
    store = default_store()
    print(f"gaitsim adapt {scenario.name}: re-tuning the {scenario.controller} controller for this body "
          f"({len(settings.seeds)} seeds x {settings.popsize} candidates per generation, {settings.generations} "
          f"generations, one batch); store {store}", flush=True)
    sols = adapt([scenario], settings, store=store)[0]
    for sol in sols:
        p = sol["provenance"]
        print(f"  seed {p['seed']}: best cost {p['best_cost']:.3f} (generation {p['best_generation']})")
    runnable = scenario.replace(mode="adapted", seed=settings.seeds[0]).save(store / f"{adapted_key(scenario)}.toml")
    print(f"  saved as {store}/{adapted_key(scenario)}_seed<seed>.json; run it with `gaitsim run {runnable}` "
          f"(--seed N for another seed)")
    return EXIT_OK


def _validate(args) -> int:
    from .validate import validate

    scenario = build_scenario(args.scenario, args)
    out = _output_folder(args.out) if args.out else None
    resolved = scenario.resolved()
    print(f"gaitsim validate {scenario.name}: {resolved.duration:g} s against measured walking; "
          f"{_backend_line(resolved.backend)}", flush=True)
    from .scenario import run_batch

    result = run_batch([scenario], progress=_progress_printer())[0]
    validation = validate(result)
    print(validation.table())
    if out is not None:
        (out / "validation.md").write_text(validation.table("markdown"))
        import matplotlib

        matplotlib.use("Agg")  # the command line draws to files only
        validation.figure().savefig(out / "validation.png", dpi=90)
        print(f"  wrote {out / 'validation.md'}, {out / 'validation.png'}")
    return EXIT_OK


def _sweep(args) -> int:
    from . import sweep as sw

    if args.workers and args.scheduler:
        raise UsageError("gaitsim sweep: give --workers or --scheduler, not both")
    if not Path(args.file).is_file():
        raise UsageError(f"gaitsim sweep: FILE {args.file}: no such sweep file")
    scenario, grid = sw.load_sweep(args.file)
    if args.duration is not None:
        scenario = scenario.replace(duration=args.duration)
    out = Path(args.out)
    if out.suffix not in (".nc", ".zarr"):
        raise UsageError(f"gaitsim sweep: --out {args.out}: give a .nc (or .zarr) file name")
    store = Path(args.store) if args.store else out.with_suffix(".store")
    _output_folder(str(out.parent if str(out.parent) else "."))
    executor = None
    if args.workers and args.workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        executor = ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn"))
    print(f"gaitsim sweep {args.file}: {scenario.name}, {scenario.duration:g} s per point; store {store} "
          f"(rerun the same command to resume)", flush=True)
    try:
        ds = sw.sweep(scenario, grid, mode=args.mode, executor=executor, scheduler=args.scheduler, store=store,
                      adapt_workers=args.workers or 1)
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    sw.save(ds, out)
    status = ds["status"].values.ravel()
    counts = {k: int((status == k).sum()) for k in sorted(set(status))}
    print(f"  points: {', '.join(f'{v} {k}' for k, v in counts.items())}; wrote {out}")
    if ds.attrs.get("interrupted"):
        print("gaitsim: sweep interrupted; the finished batches are in the store: rerun to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _load_run(folder: str):
    from .scenario import ScenarioResult

    return ScenarioResult.load(folder)


def _plot(args) -> int:
    import matplotlib

    matplotlib.use("Agg")  # the command line draws to files only
    from . import plot

    run = _load_run(args.result)
    out = _output_folder(args.out or args.result)
    makers = {"activations": plot.activations, "joint_angles": plot.joint_angles, "joint_moments": plot.joint_moments,
              "joint_powers": plot.joint_powers, "ground_force": plot.ground_force, "lumbar_load": plot.lumbar_load,
              "stick_figure": plot.stick_figure}
    written = []
    for name in args.figures or list(makers):
        makers[name](run).savefig(out / f"{name}.png", dpi=90)
        written.append(out / f"{name}.png")
    if args.animation:
        plot.animation(run, out / "walking.gif")
        written.append(out / "walking.gif")
    print(f"  wrote {', '.join(str(p) for p in written)}")
    return EXIT_OK


def _export(args) -> int:
    from . import export

    run = _load_run(args.result)
    out = _output_folder(args.out or args.result)
    writers = {"mot": lambda p: export.write_mot(p, run), "sto": lambda p: export.write_sto(p, run),
               "csv": lambda p: export.write_csv(p, run)}
    written = [writers[f](out / f"{run.scenario.name.replace('+', '_')}.{f}") for f in args.format]
    print(f"  wrote {', '.join(str(p) for p in written)}")
    return EXIT_OK


def _command(sub, name: str, help_text: str, epilog: str) -> argparse.ArgumentParser:
    """A sub-command whose ``--help`` ends with ``epilog`` (its examples) as written."""
    return sub.add_parser(name, help=help_text, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)


def make_parser() -> argparse.ArgumentParser:
    from .scenario import preset_names

    ap = _Parser(prog="gaitsim", description="gaitsim: batched sagittal-plane walking simulator",
                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = _command(sub, "run", "simulate a scenario, print a summary and write results and figures",
                   "examples:\n  gaitsim run healthy\n  gaitsim run tight_psoas --severity 0.3\n"
                   "  gaitsim run stiff_calves+tight_psoas --set calf_stiffness=1.0 --duration 20\n"
                   "  gaitsim run my_scenario.toml --out my_run\n\npresets: "
                   + ", ".join(preset_names()))
    run.add_argument("scenario", metavar="SCENARIO", help="a preset name (below) or a scenario .toml file")
    _add_scenario_arguments(run)
    run.add_argument("--batch", type=_number(int, 1, 100000), default=1, help="number of identical walkers")
    run.add_argument("--out", default="gaitsim_out", help="output folder (default gaitsim_out)")
    cmp = _command(sub, "compare", "run scenarios and compare their measures (the first is the reference)",
                   "examples:\n  gaitsim compare healthy tight_psoas stiff_calves --duration 20\n"
                   "  gaitsim compare healthy weak_dorsiflexors --severity 0.3 --format markdown\n"
                   "  gaitsim compare healthy my_scenario.toml --all --out cmp")
    cmp.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="preset names or scenario .toml files")
    _add_scenario_arguments(cmp)
    cmp.add_argument("--format", default="text", choices=["text", "markdown", "csv"], help="table format")
    cmp.add_argument("--all", action="store_true", help="every measure, not only the headline ones")
    cmp.add_argument("--out", default=None, help="folder for comparison.csv / .md and the resolved scenarios")
    ex = _command(sub, "exam", "virtual clinical exams (passive ranges, Thomas test, strength) of a scenario",
                   "examples:\n  gaitsim exam stiff_calves --severity 1.0\n"
                   "  gaitsim exam healthy --set psoas_shortening=0.6 --set psoas_tone=0.3")
    ex.add_argument("scenario", metavar="SCENARIO", help="a preset name or a scenario .toml file")
    _add_scenario_arguments(ex)
    va = _command(sub, "validate", "the walker against measured walking: angles, moments, ground force, EMG "
                   "on/off, lumbar compression (table, and a figure with --out)",
                   "examples:\n  gaitsim validate\n  gaitsim validate --controller geyer_herr --out val\n"
                   "  gaitsim validate healthy --duration 20")
    va.add_argument("scenario", metavar="SCENARIO", nargs="?", default="healthy",
                    help="a preset or scenario file (default: healthy)")
    _add_scenario_arguments(va)
    va.add_argument("--out", default=None, help="folder for validation.md and validation.png")
    swp = _command(sub, "sweep", "a grid or sample of scenarios from a sweep file -> an xarray Dataset (.nc)",
                   "examples:\n  gaitsim sweep examples/sweeps/psoas_x_calf.toml --out psoas_x_calf.nc "
                   "--workers 2\n  gaitsim sweep my_sweep.toml --out s.nc --scheduler tcp://10.0.0.5:8786")
    swp.add_argument("file", metavar="FILE.toml", help="sweep file: a scenario plus a [sweep] or [samples] table")
    swp.add_argument("--out", required=True, help="the Dataset's file (.nc, or .zarr with zarr installed)")
    swp.add_argument("--workers", type=_number(int, 1, 1024), default=None, help="local worker processes")
    swp.add_argument("--scheduler", default=None, help="a Dask scheduler address (pip install 'gaitsim[distributed]')")
    swp.add_argument("--store", default=None, help="resumable store folder (default: OUT with .store)")
    swp.add_argument("--duration", type=_number(float, 0.0, 1e5, "s", low_open=True), default=None,
                     help="simulated time per point in s (default: the sweep file's)")
    swp.add_argument("--mode", default="acute", choices=["acute", "adapted"],
                     help="adapted: re-tune the controller at every point first (slow; gaitsim.adapt defaults)")
    pl = _command(sub, "plot", "figures of a run folder written by `gaitsim run`",
                   "examples:\n  gaitsim plot gaitsim_out\n"
                   "  gaitsim plot gaitsim_out --figures activations joint_angles --animation")
    pl.add_argument("result", metavar="RESULT", help="a run folder (results.npz + scenario.toml)")
    pl.add_argument("--figures", nargs="+", default=None,
                    choices=["activations", "joint_angles", "joint_moments", "joint_powers", "ground_force",
                             "lumbar_load", "stick_figure"], help="which figures (default: all)")
    pl.add_argument("--animation", action="store_true", help="also write walking.gif")
    pl.add_argument("--out", default=None, help="folder for the figures (default: RESULT)")
    exp = _command(sub, "export", "a run folder as OpenSim .mot/.sto or CSV",
                   "examples:\n  gaitsim export gaitsim_out --format mot sto\n"
                   "  gaitsim export gaitsim_out --format csv --out tables")
    exp.add_argument("result", metavar="RESULT", help="a run folder (results.npz + scenario.toml)")
    exp.add_argument("--format", nargs="+", default=["mot", "sto"], choices=["mot", "sto", "csv"])
    exp.add_argument("--out", default=None, help="folder for the files (default: RESULT)")
    ad = _command(sub, "adapt", "re-tune the controller for a scenario's body (adapted mode; CMA-ES); "
                   "solutions are kept in $GAITSIM_CACHE/adapted (default ~/.cache/gaitsim)",
                   "examples:\n  gaitsim adapt stiff_calves --severity 0.3\n"
                   "  gaitsim adapt tight_psoas --generations 5 --popsize 8 --seeds 1 2 3\n"
                   "  gaitsim run stiff_calves --severity 0.3 --mode adapted --seed 1")
    ad.add_argument("scenario", metavar="SCENARIO", help="a preset name or a scenario .toml file")
    _add_scenario_arguments(ad)
    ad.add_argument("--generations", type=_number(int, 1, 10000), default=20, help="CMA-ES generations")
    ad.add_argument("--popsize", type=_number(int, 2, 10000), default=16, help="candidates per seed and generation")
    ad.add_argument("--sigma", type=_number(float, 0.0, 2.0, low_open=True), default=0.05,
                    help="CMA-ES initial step size (search-space units)")
    ad.add_argument("--seeds", type=_number(int, 0, 2**31 - 1), nargs="+", default=[1, 2, 3],
                    help="one CMA-ES run per seed (their spread is the optimizer's noise floor)")
    ad.add_argument("--objective-duration", type=_number(float, 0.0, 1e4, "s", low_open=True), default=None,
                    help="simulated time per candidate (default: the healthy walker's tuning objective, 25 s)")
    return ap


def main(argv=None) -> int:
    try:
        args = make_parser().parse_args(argv)
        commands = {"run": _run, "compare": _compare, "exam": _exam, "adapt": _adapt, "validate": _validate,
                    "sweep": _sweep, "plot": _plot, "export": _export}
        return commands[args.command](args)
    except UsageError as e:
        print(str(e) if str(e).startswith("gaitsim") else f"gaitsim: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, ImportError, FileNotFoundError) as e:  # bad input or missing module: one line
        if os.environ.get("GAITSIM_DEBUG"):  # a developer wants the traceback (e.g. an error inside the physics)
            raise
        print(f"gaitsim: error: {e} (GAITSIM_DEBUG=1 shows where it was raised)", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("gaitsim: interrupted before the simulation started; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
