"""Adapted mode: the reflex controller re-tuned for an impaired body.

Acute mode asks what happens the day the body changes (the healthy controller walks the changed
body). Adapted mode asks what a nervous system that has lived with the change does: the controller
gains and the start state are re-optimized for the changed body with the objective the healthy
walker was tuned with (``Objective`` from its provenance: falling, speed error, joint-limit torque,
impacts and the gait-shape terms), except that the effort is the metabolic cost of transport
(``ADAPTED_EFFORT``: Umberger 2010's muscle energy model instead of activation cubed), as
predictive-simulation studies do (SCONE; Ong et al. 2019, PLoS Comput Biol 15:e1006993, for
plantarflexor weakness and contracture). The gait-shape terms compare with a measured healthy
subject, so they pull an impaired walker toward healthy-looking gait.

What the optimizer may not change: the body (it is the impairment), the excitation offsets of a
neural impairment (``psoas_tone``), and every reflex gain the scenario fixes (its gain overrides,
and the gains an impairment scales, e.g. ``calf_reflex_responsiveness``: re-tuning those would
undo the impairment); they are held at their impaired values.

Warm start and continuation: each CMA-ES instance starts from a base solution (the shipped
healthy walker, or the adapted solution of the previous severity: ``adapt_series``) with its
mean at that solution. Several instances (scenarios x seeds) share one batch per generation, so a
severity series with several seeds costs about the wall time of the largest instance's batch.
The state of every instance is checkpointed after each generation (resume by calling again with
the same ``store``); each finished solution is saved as JSON under the key of its scenario
(``adapted_key``), with its provenance, and ``load_adapted`` finds it again. A store holds one
solution per scenario and seed: adapting the same scenario with other settings (or from another
start) replaces it, and adapted runs use whichever is there, so keep such variants in stores of
their own (``store``, or ``GAITSIM_CACHE``).
"""

from __future__ import annotations

import json
import os
import pickle
import time
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from .model import stack_models
from .optimize import DEFAULT_GAINS, POSE_OFFSETS, TRUNK_GAINS, Objective, SearchSpace, evaluate_walkers
from .reflex import ReflexGains

#: Scenario fields that define the adapted problem (the body, its impairments, the controller and
#: the integration): two scenarios equal in these share their adapted solutions
PROBLEM_FIELDS = ("body_mass", "height", "impairments", "parameters", "scale", "controller", "gains", "dt",
                  "integrator")


def default_store() -> Path:
    """Where adapted solutions are kept: ``$GAITSIM_CACHE/adapted`` (default ``~/.cache/gaitsim``)."""
    root = os.environ.get("GAITSIM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "gaitsim")
    return Path(root) / "adapted"


def adapted_key(scenario) -> str:
    """16 hex digits identifying the adapted problem of a scenario (``PROBLEM_FIELDS`` of its
    resolved form)."""
    import hashlib

    r = scenario.resolved()
    content = {k: getattr(r, k) for k in PROBLEM_FIELDS}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=float).encode()).hexdigest()[:16]


#: per J/(kg m): adapted mode's weight of the metabolic cost of transport (``Objective.w_metabolic``,
#: Umberger et al. 2003 / Umberger 2010 via ``loads.metabolic_power``). It equals the activation-cubed
#: term it replaces on the shipped trunk-initiated walker (10 x 0.048 = 0.48 against 0.05 x 10.0 J/(kg m),
#: 25 s at the tuned step), so the healthy walker's objective keeps its balance; the Geyer-Herr walker's
#: term becomes 0.45 instead of 0.22.
METABOLIC_WEIGHT = 0.05
#: the objective overrides every adaptation starts from: a published metabolic model for the effort
#: instead of activation cubed (predictive studies of impaired gait minimise a metabolic cost of
#: transport, e.g. Ong et al. 2019, PLoS Comput Biol 15:e1006993)
ADAPTED_EFFORT = (("w_effort", 0.0), ("w_metabolic", METABOLIC_WEIGHT))
#: objective terms adapted mode switches off because they score a load the study measures: the
#: lumbar compression term (``Objective.w_lumbar``, a fidelity target of the healthy tuning) would
#: push an adapted walker against the very shift the tight-psoas scenarios are asked to reveal
ADAPTED_NOT_SCORED = (("w_lumbar", 0.0),)


@dataclass(frozen=True)
class AdaptSettings:
    """CMA-ES settings of adapted mode. The objective is the healthy walker's (its provenance) with
    ``ADAPTED_EFFORT`` and ``ADAPTED_NOT_SCORED`` applied and then ``objective``'s overrides, e.g. a
    shorter ``duration`` for a quick study, or ``(("w_effort", 10.0), ("w_metabolic", 0.0))`` for
    the activation-cubed effort."""

    generations: int = 20
    popsize: int = 16
    sigma0: float = 0.05  # in the search space's units (log gain factors, 0.1 rad pose offsets)
    seeds: tuple[int, ...] = (1, 2, 3)
    objective: tuple[tuple[str, object], ...] = ()

    def __post_init__(self):
        for name, low in (("generations", 1), ("popsize", 2)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise ValueError(f"AdaptSettings.{name} must be an integer >= {low}, got {v!r}")
        if not (isinstance(self.sigma0, (int, float)) and 0 < self.sigma0 <= 2):
            raise ValueError(f"AdaptSettings.sigma0 must lie in (0, 2], got {self.sigma0!r}")
        if not self.seeds or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0
                                 for s in self.seeds) or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"AdaptSettings.seeds must be a non-empty tuple of distinct integers >= 0, "
                             f"got {self.seeds!r}")
        known = {f.name for f in fields(Objective)}
        bad = [k for k, _ in self.objective if k not in known]
        if bad:
            raise ValueError(f"AdaptSettings.objective: unknown field(s) {bad}; allowed: {', '.join(sorted(known))}")
        merged = dict(ADAPTED_EFFORT)
        merged.update(ADAPTED_NOT_SCORED)
        merged.update(dict(self.objective))
        object.__setattr__(self, "objective", tuple(merged.items()))


def tuned_objective(controller: str, overrides=()) -> Objective:
    """The objective the shipped walker of ``controller`` was tuned with (its provenance), with
    ``overrides`` ((name, value) pairs) applied; the backend is the one ``"auto"`` picks."""
    from .compiled import resolve_backend
    from .tuned import load_tuned

    recorded = load_tuned(controller)["provenance"]["objective"]
    known = {f.name for f in fields(Objective)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in recorded.items() if k in known}
    values.update(dict(overrides))
    values["backend"] = resolve_backend("auto")
    return Objective(**values)


def _base_solution(scenario, base: dict | None) -> dict:
    from .tuned import load_tuned

    return base if base is not None else load_tuned(scenario.controller)


def frozen_gains(scenario, base: dict) -> dict[str, float]:
    """Gains the optimizer may not change, at their impaired values: the scenario's overrides, and
    the base solution's gains times the impairments' gain factors."""
    from dataclasses import asdict

    from .impairments import impaired_gains

    return impaired_gains(scenario.changes(1), scenario.gains, base["gains"], asdict(ReflexGains()))


def search_space(scenario, base: dict) -> SearchSpace:
    """The gains and start state searched for ``scenario``, centred on ``base`` (x = 0 is the base
    solution): the gains the base was tuned over (its provenance's ``search_gains``; the controller
    mode's default set for older files), less those in ``frozen_gains``."""
    default = DEFAULT_GAINS + (TRUNK_GAINS if scenario.controller == "trunk_initiated" else ())
    searched = tuple(base.get("provenance", {}).get("search_gains") or default)  # as the base was tuned
    frozen = frozen_gains(scenario, base)
    centre = dict(base["gains"])
    centre["start_speed"] = base["start"]["speed"]
    centre.update({f"start_{k}": v for k, v in base["start"]["pose_offsets"].items()})
    return SearchSpace(mode=scenario.controller, gains=tuple(g for g in searched if g not in frozen), base=centre)


@dataclass
class _Instance:
    """One CMA-ES run: a scenario, a seed, its search space and state."""

    scenario: object
    seed: int
    base: dict
    space: SearchSpace
    frozen: dict
    es: object = None
    history: list = None
    def ask(self) -> np.ndarray:
        """The next population (n, d), sampled from the instance's own generator (``cma`` option
        ``randn``): its samples do not depend on other instances or on numpy's global generator,
        and a pickled instance resumes with the same samples."""
        return np.array(self.es.ask())

    @property
    def done(self) -> bool:
        return self.es is None or bool(self.es.stop())


def _new_instances(scenarios, bases, settings: AdaptSettings) -> list[_Instance]:
    import cma

    out = []
    for scenario, base in zip(scenarios, bases):
        space = search_space(scenario, base)
        for seed in settings.seeds:
            outer = np.random.get_state()  # cma seeds numpy's global generator: leave the caller's as it was
            rng = np.random.RandomState(int(seed))
            es = cma.CMAEvolutionStrategy(np.zeros(space.dimension), settings.sigma0,
                                          {"popsize": settings.popsize, "seed": int(seed), "verbose": -9,
                                           "randn": rng.randn})
            np.random.set_state(outer)
            out.append(_Instance(scenario, int(seed), base, space, frozen_gains(scenario, base), es, []))
    return out


def _evaluate_together(instances: list[_Instance], populations: list[np.ndarray], objective: Objective) -> list:
    """Every instance's population as one batch; returns each instance's measures (dict of (n,))."""
    from .control import ExcitationOffset

    models, gain_parts, speeds, offsets, tone = [], [], [], [], []
    for inst, X in zip(instances, populations):
        n = X.shape[0]
        decoded, start = inst.space.decode(X)
        gains = {k: np.full(n, float(v)) for k, v in inst.base["gains"].items()}  # unsearched: the base's
        gains.update(decoded)
        gains.update({k: np.full(n, v) for k, v in inst.frozen.items()})
        gain_parts.append((n, gains))
        speeds.append(np.broadcast_to(start["speed"], (n,)))
        offsets.append({k: np.broadcast_to(v, (n,)) for k, v in start["pose_offsets"].items()})
        models.append(stack_models([inst.scenario.model()] * n))
        changes = inst.scenario.changes(1)
        tone.append((n, {m: float(np.asarray(v)[0]) for m, v in changes.excitation_offset.items()}))
    model = stack_models(models)
    names = sorted({k for _, g in gain_parts for k in g})
    defaults = ReflexGains()

    def column(n, gains, name):
        return np.broadcast_to(gains.get(name, getattr(defaults, name)), (n,))

    gains = {k: np.concatenate([column(n, g, k) for n, g in gain_parts]) for k in names}
    start = {"speed": np.concatenate(speeds),
             "pose_offsets": {k: np.concatenate([o[k] for o in offsets]) for k in POSE_OFFSETS}}
    muscles = sorted({m for _, t in tone for m in t})
    wrap = None
    if muscles:
        per_walker = {m: np.concatenate([np.full(n, t.get(m, 0.0)) for n, t in tone]) for m in muscles}
        wrap = lambda ctrl: ExcitationOffset(ctrl, per_walker)  # noqa: E731
    modes = {inst.scenario.controller for inst in instances}
    if len(modes) != 1:
        raise ValueError(f"adapt: instances sharing a batch must share the controller, got {sorted(modes)}")
    out = evaluate_walkers(model, gains, start, objective, modes.pop(), wrap)
    parts, k = [], 0
    for n, _ in gain_parts:
        parts.append({name: v[k:k + n] for name, v in out.items()})
        k += n
    return parts


def _solution(inst: _Instance, objective: Objective, settings: AdaptSettings) -> dict:
    """The best candidate of an instance as a solution dict (``optimize.solution`` format) with
    the frozen gains merged in and the adapted-mode provenance."""
    from .version import __version__
    from .optimize import solution

    sol = solution(inst.space, objective, inst.history, seed=inst.seed, popsize=settings.popsize,
                   sigma0=settings.sigma0)
    sol["gains"] = {**{k: float(v) for k, v in inst.base["gains"].items()}, **sol["gains"], **inst.frozen}
    sol["provenance"].update({
        "mode": "adapted", "scenario": inst.scenario.resolved().to_toml(), "adapted_key": adapted_key(inst.scenario),
        "base": _base_name(inst.base, inst.scenario),
        "frozen_gains": sorted(inst.frozen), "gaitsim_version": __version__, "adapt_settings": settings_record(settings),
        "command": "gaitsim.adapt.adapt (warm-started from the base, CMA-ES instances sharing one batch)"})
    return sol


def settings_record(settings: AdaptSettings) -> dict:
    """The settings as JSON-ready data (kept in each solution's provenance)."""
    return {"generations": int(settings.generations), "popsize": int(settings.popsize),
            "sigma0": float(settings.sigma0), "seeds": [int(k) for k in settings.seeds],
            "objective": {k: (list(v) if isinstance(v, tuple) else v) for k, v in settings.objective}}


def _base_name(base: dict, scenario) -> str:
    """What an adaptation started from: an adapted solution's key, the shipped tuned walker, or
    any other tuned solution, each followed by the hash of its gains and start state, so a cache
    made from an earlier shipped walker (or from a re-tuned lower severity) is not reused."""
    import hashlib

    from .tuned import load_tuned

    content = json.dumps([base["gains"], base["start"]], sort_keys=True)
    digest = hashlib.sha256(content.encode()).hexdigest()[:12]
    if "adapted_key" in base.get("provenance", {}):
        return f"{base['provenance']['adapted_key']} {digest}"
    shipped = load_tuned(scenario.controller)
    if base["gains"] == shipped["gains"] and base["start"] == shipped["start"]:
        return f"shipped tuned {scenario.controller} {digest}"
    return f"tuned solution {digest}"


def _cached(store: Path, scenarios, bases, settings: AdaptSettings) -> bool:
    """True when every (scenario, seed) has a stored solution made with these settings from this base."""
    for scenario, base in zip(scenarios, bases):
        for seed in settings.seeds:
            path = _solution_path(store, scenario, seed)
            if not path.is_file():
                return False
            made = json.loads(path.read_text())["provenance"]
            per_seed = {**settings_record(settings), "seeds": made.get("adapt_settings", {}).get("seeds")}
            if made.get("adapt_settings") != per_seed or made.get("base") != _base_name(base, scenario):
                return False
    return True


def _state_path(store: Path, instances, settings: AdaptSettings) -> Path:
    import hashlib

    keys = "-".join(sorted({adapted_key(i.scenario) + _base_name(i.base, i.scenario) for i in instances}))
    keys += json.dumps(settings_record(settings), sort_keys=True)
    return store / f"state_{hashlib.sha256(keys.encode()).hexdigest()[:12]}.pkl"


def _evaluate_part(args):
    """Worker-process entry: ``_evaluate_together`` on a share of the instances."""
    instances, populations, objective = args
    return _evaluate_together(instances, populations, objective)


def _evaluate_shared(active, populations, objective, pool, workers: int) -> list:
    """``_evaluate_together`` over all active instances, split by instance over ``workers``
    processes when a pool is given (the same numbers: walkers never interact)."""
    if pool is None or len(active) < 2:
        return _evaluate_together(active, populations, objective)
    shares = np.array_split(np.arange(len(active)), min(workers, len(active)))
    jobs = [([active[i] for i in share], [populations[i] for i in share], objective) for share in shares if share.size]
    return [part for result in pool.map(_evaluate_part, jobs) for part in result]


def adapt(scenarios, settings: AdaptSettings = AdaptSettings(), *, bases=None, store=None, workers: int = 1,
          progress=print, force: bool = False) -> list[list[dict]]:
    """Re-tune the controller for each scenario (all with the same controller), one CMA-ES
    instance per scenario and seed, all instances sharing one batch per generation.

    bases: one base solution per scenario (default: the shipped tuned walker) that its instances
    start from. store: folder of the checkpoint and the solutions (default ``default_store()``);
    call again with the same store to resume; stored solutions are reused only when they were made
    with the same settings from the same base (else they are re-tuned and replaced). workers: processes that share each generation's
    batch (split by instance). force: re-tune even when solutions exist.
    Returns, per scenario, its solutions (one per seed), each also saved as
    ``<store>/<adapted_key>_seed<seed>.json``.
    """
    scenarios = list(scenarios)
    if not scenarios:
        raise ValueError("adapt: no scenarios given")
    keys = [adapted_key(s) for s in scenarios]
    if len(set(keys)) < len(keys):  # the same adapted problem twice: tune it once, hand out its solutions
        first = {}
        for i, k in enumerate(keys):
            first.setdefault(k, i)
        unique = sorted(first.values())
        kept = adapt([scenarios[i] for i in unique], settings, bases=None if bases is None else
                     [list(bases)[i] for i in unique], store=store, workers=workers, progress=progress, force=force)
        by_key = {keys[i]: sols for i, sols in zip(unique, kept)}
        return [by_key[k] for k in keys]
    if any(s.controller == "pose_hold" for s in scenarios):
        raise ValueError("adapt: the pose_hold controller has nothing to adapt; use a reflex walker")
    store = Path(store) if store is not None else default_store()
    store.mkdir(parents=True, exist_ok=True)
    bases = [_base_solution(s, None) for s in scenarios] if bases is None else list(bases)
    if len(bases) != len(scenarios):
        raise ValueError(f"adapt: {len(bases)} bases for {len(scenarios)} scenarios")
    if not force and _cached(store, scenarios, bases, settings):
        return [[load_adapted(s, seed, store) for seed in settings.seeds] for s in scenarios]
    objective = tuned_objective(scenarios[0].controller, settings.objective)
    state = _state_path(store, [_Instance(s, 0, b, None, {}) for s, b in zip(scenarios, bases)], settings)
    if state.is_file() and not force:
        with open(state, "rb") as f:
            instances = pickle.load(f)
        progress(f"adapt: resumed from {state} at generation {len(instances[0].history)}")
    else:
        instances = _new_instances(scenarios, bases, settings)
    pool = None
    if workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        _generations(instances, settings, objective, state, pool, workers, progress)
    finally:
        if pool is not None:
            pool.shutdown()
    results = []
    for scenario in scenarios:  # instances were made scenario by scenario, one per seed
        mine = [i for i in instances if adapted_key(i.scenario) == adapted_key(scenario)]
        sols = []
        for inst in mine:
            sol = _solution(inst, objective, settings)
            _solution_path(store, scenario, inst.seed).write_text(json.dumps(sol, indent=2))
            sols.append(sol)
        results.append(sols)
    state.unlink(missing_ok=True)
    return results


def _generations(instances, settings: AdaptSettings, objective, state: Path, pool, workers: int, progress) -> None:
    """Run the instances' generations until each has ``settings.generations`` (or its CMA-ES
    stopped), checkpointing all of them to ``state`` after each."""
    while True:
        active = [i for i in instances if len(i.history) < settings.generations and not i.done]
        if not active:
            break
        started = time.perf_counter()
        populations = [i.ask() for i in active]
        evaluated = _evaluate_shared(active, populations, objective, pool, workers)
        for inst, X, out in zip(active, populations, evaluated):
            inst.es.tell(list(X), list(out["cost"]))
            best = int(np.argmin(out["cost"]))
            inst.history.append({"generation": len(inst.history) + 1, "best_cost": float(out["cost"][best]),
                                 "best_alive": float(out["alive"][best]), "best_speed": float(out["speed"][best]),
                                 "median_cost": float(np.median(out["cost"])), "x_best": X[best].tolist(),
                                 "wall_s": time.perf_counter() - started})
        tmp = state.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            pickle.dump(instances, f)
        tmp.replace(state)
        g = max(len(i.history) for i in active)
        best = min(i.history[-1]["best_cost"] for i in active)
        progress(f"adapt: generation {g}/{settings.generations}, {sum(len(X) for X in populations)} walkers, "
                 f"best cost {best:.3f}, {time.perf_counter() - started:.1f} s")


def adapt_series(families, severities, settings: AdaptSettings = AdaptSettings(), *, start: dict | None = None,
                 store=None, workers: int = 1, progress=print) -> dict[str, list[list[dict]]]:
    """Continuation along severity for one or several impairments at once.

    families: {name: scenario_at(severity) -> Scenario} (or one callable). At each severity (in
    the order given) every family's scenario is adapted in one shared batch; the first severity
    starts from ``start`` (a tuned solution, ``optimize.solution`` format; default: the shipped
    walker), each later one from the best seed of the same family's previous severity. Returns
    {name: solutions per severity (one per seed)}."""
    if callable(families):
        families = {"series": families}
    names = list(families)
    out: dict[str, list] = {n: [] for n in names}
    bases: dict[str, dict | None] = {n: start for n in names}
    for severity in severities:
        scenarios = [families[n](severity) for n in names]
        base_list = [bases[n] if bases[n] is not None else _base_solution(s, None) for n, s in zip(names, scenarios)]
        solutions = adapt(scenarios, settings, bases=base_list, store=store, workers=workers, progress=progress)
        for n, sols in zip(names, solutions):
            out[n].append(sols)
            bases[n] = min(sols, key=lambda sol: sol["provenance"]["best_cost"])
    return out


def _solution_path(store: Path, scenario, seed: int) -> Path:
    return Path(store) / f"{adapted_key(scenario)}_seed{int(seed)}.json"


def load_adapted(scenario, seed: int = 1, store=None) -> dict:
    """The adapted solution of ``scenario`` for ``seed`` from the store (``adapt`` writes it);
    FileNotFoundError saying how to make it when there is none."""
    path = _solution_path(Path(store) if store is not None else default_store(), scenario, seed)
    if not path.is_file():
        raise FileNotFoundError(f"no adapted controller for scenario {scenario.name!r} (seed {seed}) in "
                                f"{path.parent}: run gaitsim.adapt.adapt([scenario]) or `gaitsim adapt "
                                f"{scenario.name}` first")
    return json.loads(path.read_text())


__all__ = ["ADAPTED_EFFORT", "ADAPTED_NOT_SCORED", "METABOLIC_WEIGHT", "AdaptSettings", "PROBLEM_FIELDS", "adapt",
           "adapt_series", "adapted_key", "default_store", "frozen_gains", "load_adapted", "search_space", "settings_record", "tuned_objective"]
