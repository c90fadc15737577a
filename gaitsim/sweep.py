"""Parameter sweeps: many scenarios that differ in a few knobs, run in batches, as one xarray Dataset.

``sweep(scenario, {knob: values})`` runs the full grid over the product of the knobs' values;
``sweep(scenario, latin_hypercube({knob: (low, high)}, n, seed))`` runs sampled points. A knob is
anything ``Scenario.with_settings`` accepts: an impairment knob (``psoas_shortening``, one side with
``_r``/``_l``), an exam result (``dorsiflexion_range_deg``), a body field (``body_mass`` in kg,
``height`` in m), a reflex gain, an integrator option, ``duration`` (s) or a raw parameter name or
glob (``muscle.passive_stiffness.soleus_*``).

How it runs
-----------
Points become scenarios through ``scenario.with_settings``, are grouped by what a batch must share
(controller, step, integrator, backend, duration, save settings), and each group is cut, in point
order, into batches of ``batch_size`` walkers; each batch runs with ``gaitsim.scenario.run_batch``.
The batches depend only on the sweep definition and the batch size, never on who runs them, so an
in-process run, a ``concurrent.futures`` pool and a Dask cluster give the same numbers (a batch
also equals separate runs in gaitsim). The default batch size (``default_batch_size``) keeps the
saved trajectories of one batch near ``BATCH_MEMORY`` bytes (at most ``MAX_BATCH`` walkers, the
fastest size for the compiled backend) and spreads the points evenly over a number of batches
rounded up to a multiple of the CPU count; a sweep that fits in one batch is one batch.

Store and interruption
----------------------
With ``store=folder`` every finished batch is written at once (``batch_NNNNNN.nc``, then
``manifest.json``: the definition and its hash, the resolved base scenario, the knob values, the
batch plan, the gaitsim version, which batches are done and a log of every batch computed).
Rerunning the same call resumes: finished batches are read back, not recomputed. A store made by
another definition is refused (ValueError) before any work. Ctrl-C (KeyboardInterrupt) stops the
sweep cleanly and *returns* the partial Dataset with ``attrs["interrupted"] = True`` (points not
run have status ``"not run"``), after a ``SweepInterrupted`` warning saying how far it got; the
finished batches stay in the store. A batch that was running when the interruption came is
discarded and recomputed on the next run.

The Dataset
-----------
Dimensions: the swept knobs (grid; coordinates = their values) or ``point`` (samples; each knob a
coordinate along ``point``); in adapted mode also ``seed`` (``adapted_sweep``). Data variables, per point:

* every measure of ``GaitMeasures.mean`` (SI, ``units`` attribute) and its SD as ``<name>_sd``;
* ``status`` ("ok", "fell", "diverged"; "not run" in an interrupted sweep), ``status_time`` (s,
  NaN while ok), ``fall_cause`` (``measures.fall_causes``; "" while ok), ``n_strides``;
* with ``curves=True``, cycle-normalized mean curves over ``cycle_pct`` (0-100 % of the right
  stride): ``curve_activation`` and ``curve_muscle_force`` (..., cycle_pct, muscle),
  ``curve_q`` (rad; m for pelvis_tx/ty), ``curve_joint_moment`` (N m), ``curve_joint_power`` (W)
  (..., cycle_pct, coordinate), ``curve_lumbar_compression``, ``curve_lumbar_shear``,
  ``curve_psoas_lumbar_compression`` (N) and ``curve_grf_y`` (..., cycle_pct, foot).

A walker that fell or diverged keeps that status; its measures cover only the strides it completed
before the fall (``gait_measures``), so means, maps and plots over a sweep must filter by status:
``walking(ds)`` masks every point whose status is not "ok".

Attributes: ``base_scenario`` (resolved base scenario, TOML), ``sweep_definition`` (JSON),
``definition_hash``, ``gaitsim_version``, ``created`` (ISO 8601, UTC), ``mode``, ``interrupted``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import xarray as xr

from .names import COORDINATES, MUSCLES, SIDES
from .scenario import MODES_OF_CONTROL, Scenario, batch_groups

#: fastest batch for the compiled backend (walkers per process)
MAX_BATCH = 1024
#: bytes one batch's saved trajectories may take in a worker (sets the default batch size)
BATCH_MEMORY = 192 * 2**20
#: bytes one walker's saved sample takes while its batch runs and is measured, as measured: every
#: field of ``Results.FIELDS`` (172 numbers of 8 bytes) twice (the batch's arrays and the per-walker
#: copies ``run_batch`` returns), plus the intermediates of ``gait_measures``
_BYTES_PER_SAMPLE = 3500
#: scenario fields that are not numbers and so cannot be swept
_NOT_SWEEPABLE = ("name", "description", "controller", "start", "backend")
#: "acute" | "adapted" (``scenario.MODES_OF_CONTROL``)
MODES = MODES_OF_CONTROL
STORE_FORMAT = "gaitsim-sweep-store/1"
NOT_RUN = "not run"
_CURVE_DIMS = {"activation": ("muscle",), "muscle_force": ("muscle",), "q": ("coordinate",),
               "joint_moment": ("coordinate",), "joint_power": ("coordinate",), "lumbar_compression": (),
               "lumbar_shear": (), "psoas_lumbar_compression": (), "grf_y": ("foot",)}
_CURVE_UNITS = {"q": "rad (m for pelvis_tx, pelvis_ty)", "joint_moment": "N m (N for pelvis_tx, pelvis_ty)"}


class SweepInterrupted(UserWarning):
    """Warned when a sweep stops on KeyboardInterrupt and returns a partial Dataset."""


# ----- what is swept ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Samples:
    """Sampled sweep points: ``values[i, j]`` is knob ``knobs[j]`` at point i, shape (n, k).
    ``method`` ("latin_hypercube" | "random"), ``seed`` and ``bounds`` {knob: (low, high)} say how
    they were drawn (kept in the sweep definition)."""

    knobs: tuple
    values: np.ndarray
    method: str
    seed: int | None
    bounds: dict

    def __len__(self) -> int:
        return self.values.shape[0]


def _checked_bounds(bounds: Mapping, n) -> tuple[tuple, np.ndarray, np.ndarray]:
    if not isinstance(bounds, Mapping) or not bounds:
        raise ValueError("sweep samples: bounds must be a non-empty table of knob -> (low, high)")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"sweep samples: n (number of points) must be a positive integer, got {n!r}")
    lows, highs = [], []
    for knob, pair in bounds.items():
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise ValueError(f"sweep knob {knob!r}: bounds must be (low, high), got {pair!r}")
        low, high = (_number(knob, v) for v in pair)
        if not low < high:
            raise ValueError(f"sweep knob {knob!r}: bounds must have low < high, got ({low:g}, {high:g})")
        lows.append(low)
        highs.append(high)
    return tuple(str(k) for k in bounds), np.array(lows), np.array(highs)


def latin_hypercube(bounds: Mapping, n: int, seed: int | None = 0) -> Samples:
    """``n`` points of a Latin hypercube (``scipy.stats.qmc.LatinHypercube``) over ``bounds``
    {knob: (low, high)} in the knobs' own units; the same seed gives the same points."""
    from scipy.stats import qmc

    knobs, low, high = _checked_bounds(bounds, n)
    try:
        engine = qmc.LatinHypercube(d=len(knobs), rng=np.random.default_rng(seed))
    except TypeError:  # scipy < 1.15 names it seed
        engine = qmc.LatinHypercube(d=len(knobs), seed=np.random.default_rng(seed))
    unit = engine.random(int(n))
    return Samples(knobs, qmc.scale(unit, low, high), "latin_hypercube", seed,
                   {k: (float(a), float(b)) for k, a, b in zip(knobs, low, high)})


def random_samples(bounds: Mapping, n: int, seed: int | None = 0) -> Samples:
    """``n`` points drawn uniformly at random (``numpy.random.default_rng(seed)``) within ``bounds``
    {knob: (low, high)}."""
    knobs, low, high = _checked_bounds(bounds, n)
    unit = np.random.default_rng(seed).random((int(n), len(knobs)))
    return Samples(knobs, low + unit * (high - low), "random", seed,
                   {k: (float(a), float(b)) for k, a, b in zip(knobs, low, high)})


def _number(knob: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)):
        raise ValueError(f"sweep knob {knob!r}: values must be finite numbers, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)  # integer fields (seed, mechanics_substeps, fiber_iterations) stay integers
    return float(value)


@dataclass(frozen=True)
class _Plan:
    """A checked sweep definition: knobs, each point's settings, the grid shape (None for samples)."""

    kind: str  # "grid" | "samples"
    knobs: tuple
    axes: dict  # grid: knob -> tuple of values; samples: knob -> (n,) values
    points: list  # [{knob: value}] in point order (grid: C order of the product)
    shape: tuple | None
    samples: Samples | None = None

    def definition(self) -> dict:
        if self.kind == "grid":
            return {"kind": "grid", "grid": {k: list(v) for k, v in self.axes.items()}}
        s = self.samples
        return {"kind": "samples", "method": s.method, "seed": s.seed, "bounds": s.bounds,
                "knobs": list(s.knobs), "values": s.values.tolist()}


def _plan(grid_or_samples) -> _Plan:
    if isinstance(grid_or_samples, Samples):
        s = grid_or_samples
        for k in s.knobs:
            _sweepable(k)
        points = [{k: float(v) for k, v in zip(s.knobs, row)} for row in s.values]
        return _Plan("samples", s.knobs, {k: s.values[:, j] for j, k in enumerate(s.knobs)}, points, None, s)
    if not isinstance(grid_or_samples, Mapping) or not grid_or_samples:
        raise ValueError("sweep: give a non-empty grid {knob: [values]} or Samples from latin_hypercube / "
                         f"random_samples, got {grid_or_samples!r}")
    axes = {}
    for knob, values in grid_or_samples.items():
        knob = str(knob)
        _sweepable(knob)
        if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
            raise ValueError(f"sweep knob {knob!r}: give a list of values, got {values!r}")
        vals = tuple(_number(knob, v) for v in np.asarray(values, dtype=object).reshape(-1))
        if not vals:
            raise ValueError(f"sweep knob {knob!r}: empty list of values")
        if len(set(vals)) != len(vals):
            raise ValueError(f"sweep knob {knob!r}: values repeat ({', '.join(f'{v:g}' for v in vals)})")
        axes[knob] = vals
    points = [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]
    return _Plan("grid", tuple(axes), axes, points, tuple(len(v) for v in axes.values()))


def _sweepable(knob: str) -> None:
    if knob in _NOT_SWEEPABLE:
        raise ValueError(f"sweep knob {knob!r}: not a number, so it cannot be swept (the points of a batch share "
                         f"their controller and start); run one sweep per {knob}. Sweepable: impairment knobs, "
                         f"exam results, body_mass, height, reflex gains, integrator options, duration, "
                         f"raw parameter names")


def _point_scenarios(base: Scenario, plan: _Plan) -> list[Scenario]:
    """Every point's scenario; ValueError naming the knob (the scenario's own message) otherwise."""
    checked: set = set()
    for point in plan.points:  # each knob value alone first: the error names the knob and value
        for knob, value in point.items():
            if (knob, value) not in checked:
                _settings(base, {knob: value})
                checked.add((knob, value))
    return [_settings(base, point) for point in plan.points]


def _settings(base: Scenario, point: dict) -> Scenario:
    try:
        return base.with_settings(point)
    except ValueError as e:
        text = str(e).removeprefix("--set ")
        raise ValueError(f"sweep point {_fmt(point)}: {text}") from None


def _fmt(point: dict) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in point.items())


# ----- batches ------------------------------------------------------------------------------------
def default_batch_size(n_points: int, duration: float, save_interval: float, cpus: int | None = None) -> int:
    """Walkers per batch: all points when their saved trajectories fit in ``BATCH_MEMORY`` and at most
    ``MAX_BATCH``; otherwise the points spread evenly over the fewest batches within those limits,
    their count rounded up to a multiple of ``cpus`` (default ``os.cpu_count()``) so that workers
    finish together. duration, save_interval: s (the saved samples per walker)."""
    samples = max(1.0, duration / save_interval)
    limit = int(max(1, min(MAX_BATCH, BATCH_MEMORY // (samples * _BYTES_PER_SAMPLE))))
    if n_points <= limit:
        return max(1, n_points)
    cpus = max(1, cpus or os.cpu_count() or 1)
    n_batches = math.ceil(math.ceil(n_points / limit) / cpus) * cpus
    return max(1, math.ceil(n_points / n_batches))




def _batch_plan(scenarios: list[Scenario], batch_size: int) -> list[list[int]]:
    """Point indices of each batch: points grouped by their shared batch settings (groups in order
    of first appearance), each group cut in point order into batches of ``batch_size``."""
    return [idx[j: j + batch_size] for idx in batch_groups(scenarios) for j in range(0, len(idx), batch_size)]


class _BatchInterrupted(Exception):
    """The simulation of a batch was stopped by Ctrl-C (``Results.interrupted``)."""


def run_points(task: tuple) -> xr.Dataset:
    """Run one batch: ``task`` = (batch index, point indices, scenarios, curves). Returns its
    Dataset along ``point`` (module docstring). Top-level so that process pools and Dask workers
    can import it."""
    from .scenario import run_batch

    batch, points, scenarios, curves = task
    start = time.perf_counter()
    results = run_batch(scenarios, progress=None)
    if any(r.results.interrupted for r in results):
        raise _BatchInterrupted(f"batch {batch} interrupted")
    ds = _batch_dataset(results, np.asarray(points, dtype=np.int64), curves)
    ds.attrs.update(batch=int(batch), wall_time=time.perf_counter() - start)
    return ds


def _batch_dataset(results, points: np.ndarray, curves: bool) -> xr.Dataset:
    """Dataset along ``point`` of a batch's ``ScenarioResult``s (one walker each)."""
    from .measures import fall_causes
    from .results import STATUS_NAMES

    measures = [r.measures for r in results]
    data = {
        "status": ("point", np.array([STATUS_NAMES[int(r.results.status[0])] for r in results], dtype=str)),
        "status_time": ("point", np.array([float(r.results.status_time[0]) for r in results]), {"units": "s"}),
        "fall_cause": ("point", np.array([fall_causes(r.results, r.model)[0] for r in results], dtype=str)),
        "n_strides": ("point", np.array([int(m.n_strides[0]) for m in measures], dtype=np.int64)),
    }
    units: dict = {}
    for m in measures:
        for k in m.mean:
            units.setdefault(k, m.units.get(k, "-"))
    for name in sorted(units):
        for suffix, table in (("", "mean"), ("_sd", "sd")):
            vals = np.array([float(getattr(m, table)[name][0]) if name in getattr(m, table) else np.nan
                             for m in measures])
            data[name + suffix] = ("point", vals, {"units": units[name]})
    if curves:
        data.update(_curve_variables(measures))
    return xr.Dataset(data, coords={"point": points})


def _curve_variables(measures) -> dict:
    out = {}
    for name, extra in _CURVE_DIMS.items():
        shapes = [m.curves[name].shape[1:] for m in measures if name in m.curves]
        if not shapes:
            continue
        arr = np.full((len(measures),) + shapes[0], np.nan)
        for i, m in enumerate(measures):
            if name in m.curves:
                arr[i] = m.curves[name][0]
        unit = _CURVE_UNITS.get(name, measures[0].curve_units.get(name, "-") if measures[0].curve_units else "-")
        out["curve_" + name] = (("point", "cycle_pct") + extra, arr, {"units": unit})
    return out


# ----- the store ----------------------------------------------------------------------------------
class _Store:
    """A folder of ``batch_NNNNNN.nc`` files and ``manifest.json`` (module docstring)."""

    def __init__(self, folder, manifest: dict):
        self.folder = Path(folder)
        self.manifest = manifest

    @classmethod
    def open(cls, folder, definition: dict, digest: str, base_toml: str, batches, batch_size) -> "_Store":
        folder = Path(folder)
        path = folder / "manifest.json"
        if path.is_file():
            old = json.loads(path.read_text())
            if old.get("format") != STORE_FORMAT or old.get("definition_hash") != digest:
                raise ValueError(f"store {str(folder)!r} holds another sweep (definition hash "
                                 f"{old.get('definition_hash')!r}, this sweep's is {digest!r}; differing keys: "
                                 f"{_differing(old.get('definition', {}), definition)}); use another store folder")
            if batch_size is not None and batch_size != old["batch_size"]:
                raise ValueError(f"batch_size={batch_size}: store {str(folder)!r} was made with batch_size="
                                 f"{old['batch_size']}; give that (or None) to resume it")
            return cls(folder, old)
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise ValueError(f"store {str(folder)!r} exists and is not a sweep store (no manifest.json); "
                             f"give a new or empty folder")
        folder.mkdir(parents=True, exist_ok=True)
        store = cls(folder, {"format": STORE_FORMAT, "definition_hash": digest, "definition": definition,
                             "base_scenario": base_toml, "gaitsim_version": definition["gaitsim_version"],
                             "created": _now(), "batch_size": batches[1], "batches": batches[0], "done": {},
                             "log": []})
        store._write_manifest()
        return store

    def done(self) -> dict[int, Path]:
        return {int(b): self.folder / d["file"] for b, d in self.manifest["done"].items()
                if (self.folder / d["file"]).is_file()}

    def add(self, ds: xr.Dataset) -> None:
        batch = int(ds.attrs["batch"])
        name = f"batch_{batch:06d}.nc"
        tmp = self.folder / (name + ".part")
        _to_netcdf(ds, tmp)
        os.replace(tmp, self.folder / name)
        self.manifest["done"][str(batch)] = {"file": name, "finished": _now(),
                                             "wall_time": float(ds.attrs.get("wall_time", 0.0))}
        self.manifest["log"].append({"batch": batch, "finished": _now(), "pid": os.getpid()})
        self._write_manifest()

    def _write_manifest(self) -> None:
        tmp = self.folder / "manifest.json.part"
        tmp.write_text(json.dumps(self.manifest, indent=1))
        os.replace(tmp, self.folder / "manifest.json")


def _differing(a: dict, b: dict) -> str:
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return ", ".join(keys) or "none (format)"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ----- running the batches ------------------------------------------------------------------------
def _completed(tasks, executor, scheduler):
    """Yield each task's Dataset as it finishes: in process, on a ``concurrent.futures`` executor or
    on a Dask cluster. Closing the generator (interruption) cancels what has not started."""
    if executor is None and scheduler is None:
        for task in tasks:
            yield run_points(task)
        return
    if scheduler is not None:
        yield from _completed_dask(tasks, scheduler)
        return
    from concurrent.futures import as_completed

    futures = [executor.submit(run_points, task) for task in tasks]
    try:
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        for fut in futures:
            fut.cancel()


def _completed_dask(tasks, scheduler):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ImportError("sweep(scheduler=...) needs dask.distributed: pip install 'gaitsim[distributed]'") from None
    own = isinstance(scheduler, str)
    client = Client(scheduler) if own else scheduler
    futures = [client.submit(run_points, task, pure=False) for task in tasks]
    try:
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        client.cancel(futures)
        if own:
            client.close()


def _progress(total: int, initial: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="point", desc="sweep", disable=not enabled or None,
                dynamic_ncols=True)


# ----- the sweep ----------------------------------------------------------------------------------
def sweep(scenario: Scenario, grid_or_samples, *, mode: str = "acute", duration: float | None = None,
          batch_size: int | None = None, executor=None, scheduler=None, store=None, progress: bool = True,
          curves: bool = True, adapt_settings=None, adapt_workers: int = 1) -> xr.Dataset:
    """Run ``scenario`` at every point of a grid {knob: values} or of ``Samples``; returns the
    Dataset described in the module docstring.

    mode: "acute" (the shipped controller walks every body) or "adapted" (the controller re-tuned
    for every point's body, ``adapted_sweep``: a ``seed`` dimension holds each CMA-ES seed's
    walker; ``adapt_settings`` are its ``gaitsim.adapt.AdaptSettings``, ``adapt_workers`` the
    processes that share each wave's batch). duration: s per point (default: the scenario's). batch_size: walkers per batch (default ``default_batch_size``; a resumed store
    keeps its own). executor: a ``concurrent.futures.Executor`` (e.g. a ``ProcessPoolExecutor``
    with the spawn context) to run the batches on; scheduler: a ``dask.distributed.Client`` or a
    scheduler address. store: folder to write finished batches to and resume from. progress: a
    tqdm bar over points. curves: add the cycle-normalized curves.

    A bad definition (unknown knob or bad value, with the scenario's message; empty or repeated
    values; non-numbers; a store made by another definition) raises ValueError before any work.
    Ctrl-C returns the partial Dataset with ``attrs["interrupted"] = True``."""
    _check_options(mode, executor, scheduler, batch_size)
    base = scenario if duration is None else scenario.replace(duration=duration)
    plan = _plan(grid_or_samples)
    scenarios = _point_scenarios(base, plan)
    if mode == "adapted":
        return adapted_sweep(base, plan, scenarios, adapt_settings, adapt_workers, batch_size=batch_size,
                             executor=executor, scheduler=scheduler, store=store, progress=progress, curves=curves)
    definition = _definition(base, plan, mode, curves)
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()[:16]
    size = batch_size or _default_size(scenarios)
    batches = _batch_plan(scenarios, size)
    base_toml = base.resolved().to_toml()
    st = None
    if store is not None:
        st = _Store.open(store, definition, digest, base_toml, (batches, size), batch_size)
        batches = st.manifest["batches"]
    finished = {b: _read_batch(path) for b, path in (st.done() if st else {}).items()}
    todo = [(b, idx, [scenarios[i] for i in idx], curves) for b, idx in enumerate(batches) if b not in finished]
    interrupted = _run(todo, finished, st, executor, scheduler, len(plan.points), progress)
    if interrupted:
        warnings.warn(f"sweep interrupted: {len(finished)} of {len(batches)} batches finished"
                      + (f" and kept in {str(store)!r}; rerun the same call to resume" if st else ""),
                      SweepInterrupted, stacklevel=2)
    ds = _assemble(plan, [finished[b] for b in sorted(finished)])
    ds.attrs.update(base_scenario=base_toml, sweep_definition=json.dumps(definition), definition_hash=digest,
                    gaitsim_version=definition["gaitsim_version"], created=_now(), mode=mode,
                    interrupted=bool(interrupted), batch_size=int(st.manifest["batch_size"] if st else size))
    return ds


def _check_options(mode, executor, scheduler, batch_size) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if executor is not None and scheduler is not None:
        raise ValueError("sweep: give executor= or scheduler=, not both")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                   or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer (walkers per batch) or None, got {batch_size!r}")


def _waves(plan: _Plan) -> list[list[tuple[int, int | None]]]:
    """The points in waves, each point with the earlier point it warm-starts from (None: the shipped
    walker). Grid: wave w holds the points whose grid indices sum to w, each continued from its
    neighbour one step back along the last axis it has moved on. Samples: points in order of their
    distance from the lowest corner of the bounds (knob ranges scaled to 1), in waves of about
    sqrt(n), each continued from the nearest point of the earlier waves."""
    n = len(plan.points)
    if plan.kind == "grid":
        index = list(itertools.product(*(range(k) for k in plan.shape)))
        where = {ix: i for i, ix in enumerate(index)}
        waves: dict[int, list] = {}
        for i, ix in enumerate(index):
            moved = [a for a, k in enumerate(ix) if k > 0]
            parent = None
            if moved:
                back = list(ix)
                back[moved[-1]] -= 1
                parent = where[tuple(back)]
            waves.setdefault(sum(ix), []).append((i, parent))
        return [waves[w] for w in sorted(waves)]
    values = np.array([[p[k] for k in plan.knobs] for p in plan.points])
    span = np.ptp(values, axis=0)
    unit = (values - values.min(axis=0)) / np.where(span > 0, span, 1.0)
    order = np.argsort(np.linalg.norm(unit, axis=1), kind="stable")
    size = max(1, int(round(math.sqrt(n))))
    out, done = [], []
    for start in range(0, n, size):
        wave = []
        for i in order[start:start + size]:
            parent = None if not done else done[int(np.argmin(np.linalg.norm(unit[done] - unit[i], axis=1)))]
            wave.append((int(i), parent))
        done.extend(i for i, _ in wave)
        out.append(wave)
    return out


def adapted_sweep(base: Scenario, plan: _Plan, scenarios: list, settings=None, workers: int = 1, **run) -> xr.Dataset:
    """Adapted mode of ``sweep``: every point's controller re-tuned (``gaitsim.adapt.adapt``, wave by
    wave along ``_waves``, each point warm-started from the best seed of its finished neighbour, all
    points of a wave sharing one batch per generation; solutions cached, so a rerun resumes), then
    every point walked by each seed's controller: the acute sweep of the adapted scenarios once
    per seed, joined along a ``seed`` dimension (its spread is the optimizer's noise floor)."""
    from .adapt import AdaptSettings, adapt

    settings = settings if settings is not None else AdaptSettings()
    best: dict[int, dict] = {}
    waves = _waves(plan)
    for k, wave in enumerate(waves):
        members = [scenarios[i] for i, _ in wave]
        bases = [best.get(parent) if parent is not None else None for _, parent in wave]
        if all(b is None for b in bases):
            bases = None
        else:
            from .adapt import _base_solution

            bases = [b if b is not None else _base_solution(s, None) for b, s in zip(bases, members)]
        if run.get("progress"):
            print(f"sweep (adapted): wave {k + 1}/{len(waves)}, {len(members)} point(s) x {len(settings.seeds)} seeds",
                  flush=True)
        solutions = adapt(members, settings, bases=bases, workers=workers, progress=lambda message: None)
        for (i, _), sols in zip(wave, solutions):
            best[i] = min(sols, key=lambda sol: sol["provenance"]["best_cost"])
    store = run.pop("store", None)
    grid = dict(plan.axes) if plan.kind == "grid" else plan.samples
    parts = []
    for seed in settings.seeds:
        seed_store = None if store is None else Path(store) / f"seed_{int(seed)}"
        part = sweep(base.replace(mode="adapted", seed=int(seed)), grid, store=seed_store, **run)
        parts.append(part.expand_dims(seed=[int(seed)]))
    ds = xr.concat(parts, dim="seed", combine_attrs="override")
    ds.attrs.update(mode="adapted", adapt_settings=json.dumps({"generations": settings.generations,
                                                                "popsize": settings.popsize,
                                                                "sigma0": settings.sigma0,
                                                                "seeds": list(settings.seeds),
                                                                "objective": dict(settings.objective)}),
                    interrupted=any(bool(p.attrs.get("interrupted")) for p in parts))
    return ds


def _default_size(scenarios: list[Scenario]) -> int:
    longest = max(scenarios, key=lambda s: s.duration / s.save_interval)
    return default_batch_size(len(scenarios), longest.duration, longest.save_interval)


def _definition(base: Scenario, plan: _Plan, mode: str, curves: bool) -> dict:
    from .version import __version__

    return {"base": json.loads(json.dumps(base.resolved().to_dict(), default=float)), **plan.definition(),
            "mode": mode, "curves": bool(curves), "gaitsim_version": __version__}


def _run(todo, finished: dict, st, executor, scheduler, n_points: int, progress: bool) -> bool:
    """Run the batches of ``todo``, adding each finished one to ``finished`` (and the store);
    True when interrupted."""
    bar = _progress(n_points, sum(d.sizes["point"] for d in finished.values()), progress)
    results = _completed(todo, executor, scheduler)
    try:
        for ds in results:
            if st is not None:
                st.add(ds)
            finished[int(ds.attrs["batch"])] = ds
            bar.update(ds.sizes["point"])
    except (KeyboardInterrupt, _BatchInterrupted):
        return True
    finally:
        results.close()
        bar.close()
    return False


def _read_batch(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine=_engine()) as f:
        ds = f.load()
    for name in ("status", "fall_cause"):
        ds[name] = ds[name].astype(str)
    return ds


def _assemble(plan: _Plan, parts: list[xr.Dataset]) -> xr.Dataset:
    """The sweep's Dataset from its finished batches: every point, missing ones "not run"/NaN,
    reshaped to the grid (or along ``point``)."""
    n = len(plan.points)
    order = {}
    for ds in parts:
        for name, var in ds.data_vars.items():
            order.setdefault(name, var)
    data = {}
    for name, var in order.items():
        fill = NOT_RUN if name == "status" else "" if var.dtype.kind in "UO" else 0 if var.dtype.kind == "i" else np.nan
        full = np.full((n,) + var.shape[1:], fill, dtype=var.dtype if var.dtype.kind not in "UO" else object)
        for ds in parts:
            if name in ds:
                full[ds["point"].values] = ds[name].values
        if full.dtype == object:
            full = full.astype(str)
        data[name] = (var.dims, full, dict(var.attrs))
    if not parts:
        data["status"] = ("point", np.full(n, NOT_RUN))
    coords = {"cycle_pct": np.linspace(0.0, 100.0, 101), "muscle": list(MUSCLES), "coordinate": list(COORDINATES),
              "foot": list(SIDES)}
    ds = xr.Dataset(data)
    ds = ds.assign_coords({k: v for k, v in coords.items() if k in ds.dims})
    if plan.kind == "samples":
        return ds.assign_coords({k: ("point", np.asarray(v, float)) for k, v in plan.axes.items()}
                                | {"point": np.arange(n)})
    return _to_grid(ds, plan)


def _to_grid(ds: xr.Dataset, plan: _Plan) -> xr.Dataset:
    out = {}
    for name, var in ds.data_vars.items():
        out[name] = (plan.knobs + var.dims[1:], var.values.reshape(plan.shape + var.shape[1:]), var.attrs)
    coords = {k: np.asarray(v, float) for k, v in plan.axes.items()}
    coords.update({k: ds[k].values for k in ds.coords if k != "point"})
    return xr.Dataset(out, coords=coords)


# ----- using the result ---------------------------------------------------------------------------
def walking(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with every numeric point variable set to NaN where ``status`` is not "ok" (fell,
    diverged, not run): what means, maps and plots over a sweep should use."""
    ok = (ds["status"] == "ok").values
    dims = ds["status"].dims
    out = ds.copy(deep=False)  # new Variables sharing the arrays; each masked one gets a new array
    for name, var in out.data_vars.items():
        if name == "status" or var.dtype.kind not in "fciu" or var.dims[: len(dims)] != dims:
            continue
        keep = ok.reshape(ok.shape + (1,) * (var.ndim - ok.ndim))
        out.variables[name].data = np.where(keep, var.values, np.nan)  # integers become floats
    return out


def _engine() -> str:
    for module, engine in (("netCDF4", "netcdf4"), ("h5netcdf", "h5netcdf")):
        try:
            __import__(module)
            if engine == "h5netcdf":
                __import__("h5py")
            return engine
        except ImportError:
            continue
    return "scipy"


def _to_netcdf(ds: xr.Dataset, path) -> None:
    out = ds.copy()
    out.attrs = {k: (int(v) if isinstance(v, bool) else v) for k, v in ds.attrs.items()}
    out.to_netcdf(path, engine=_engine())


def save(ds: xr.Dataset, path) -> Path:
    """Write a sweep Dataset to ``path``: netCDF (``.nc``), or zarr (``.zarr``, needs the zarr
    package). Returns the path."""
    p = Path(path)
    if p.suffix == ".zarr":
        try:
            import zarr  # noqa: F401
        except ImportError:
            raise ValueError(f"save: {str(p)!r} is a .zarr path but zarr is not installed; pip install zarr "
                             f"or use a .nc path") from None
        out = ds.copy()
        out.attrs = {k: (int(v) if isinstance(v, bool) else v) for k, v in ds.attrs.items()}
        out.to_zarr(p, mode="w")
        return p
    _to_netcdf(ds, p)
    return p


def load(path) -> xr.Dataset:
    """A sweep Dataset written by ``save`` (netCDF or zarr), loaded into memory."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"load: no sweep file {str(p)!r}")
    if p.suffix == ".zarr":
        ds = xr.open_zarr(p).load()
    else:
        with xr.open_dataset(p, engine=_engine()) as f:
            ds = f.load()
    for name in ("status", "fall_cause"):
        if name in ds:
            ds[name] = ds[name].astype(str)
    if "interrupted" in ds.attrs:
        ds.attrs["interrupted"] = bool(ds.attrs["interrupted"])
    return ds


# ----- sweep files --------------------------------------------------------------------------------
def load_sweep(path):
    """(scenario, grid or Samples) from a sweep file: a scenario TOML file (``include`` allowed)
    plus a ``[sweep]`` table of knob -> list of values or {start, stop, num} (inclusive, like
    ``numpy.linspace``), or a ``[samples]`` table: ``method`` ("latin_hypercube" | "random"), ``n``,
    ``seed`` and ``[samples.bounds]`` knob -> [low, high]."""
    from .scenario import read_toml_with_includes

    p = Path(path)
    data = read_toml_with_includes(p, ())
    grid, samples = data.pop("sweep", None), data.pop("samples", None)
    if (grid is None) == (samples is None):
        raise ValueError(f"sweep file {str(p)!r}: give exactly one of a [sweep] table (grid) or a [samples] table")
    scenario = Scenario.from_dict(data, source=str(p))
    if samples is not None:
        return scenario, _samples_from_table(samples, p)
    if not isinstance(grid, Mapping):
        raise ValueError(f"sweep file {str(p)!r}: [sweep] must be a table of knob -> values")
    return scenario, {str(k): _values_from_entry(str(k), v, p) for k, v in grid.items()}


def _values_from_entry(knob: str, entry, p: Path) -> list:
    if isinstance(entry, Mapping):
        if set(entry) != {"start", "stop", "num"}:
            raise ValueError(f"sweep file {str(p)!r}: [sweep] {knob} = {{start, stop, num}} expected, got keys "
                             f"{sorted(entry)}")
        num = entry["num"]
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise ValueError(f"sweep file {str(p)!r}: [sweep] {knob}.num must be a positive integer, got {num!r}")
        start, stop = _number(knob, entry["start"]), _number(knob, entry["stop"])
        return [float(v) for v in np.linspace(start, stop, num)]
    if isinstance(entry, list):
        return entry
    raise ValueError(f"sweep file {str(p)!r}: [sweep] {knob} must be a list of values or {{start, stop, num}}, "
                     f"got {entry!r}")


def _samples_from_table(table, p: Path) -> Samples:
    methods = {"latin_hypercube": latin_hypercube, "random": random_samples}
    if not isinstance(table, Mapping):
        raise ValueError(f"sweep file {str(p)!r}: [samples] must be a table")
    unknown = set(table) - {"method", "n", "seed", "bounds"}
    if unknown:
        raise ValueError(f"sweep file {str(p)!r}: unknown keys in [samples]: {sorted(unknown)}; allowed: method, n, "
                         f"seed, bounds")
    method = table.get("method", "latin_hypercube")
    if method not in methods:
        raise ValueError(f"sweep file {str(p)!r}: [samples] method must be one of {', '.join(methods)}, got {method!r}")
    return methods[method](table.get("bounds", {}), table.get("n", 0), table.get("seed", 0))


__all__ = ["BATCH_MEMORY", "MAX_BATCH", "Samples", "SweepInterrupted", "default_batch_size", "latin_hypercube",
           "load", "load_sweep", "random_samples", "run_points", "save", "sweep", "walking"]
