"""Tuned controller parameters shipped with gaitsim, with their provenance.

``load_tuned(mode)`` returns the JSON dict written by ``optimize.tune`` (gains, start state,
provenance: objective, seed, population, generations, and the command that reproduces it).
``healthy_walker(model, mode)`` builds the controller and the initial state from it, and
``tuned_solver(solution)`` the integrator the solution was tuned with: a reflex walker's gait is
tuned together with its integrator's errors, so it must be run with the same options.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from importlib import resources

import numpy as np

from .integrate import SemiImplicitEuler
from .model import Model
from .reflex import MODES, ReflexController, ReflexGains
from .walking_start import walking_state


def load_tuned(mode: str = "trunk_initiated") -> dict:
    """The shipped tuned parameters of a controller mode (``ValueError`` if none ship)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    path = resources.files("gaitsim") / "data" / f"tuned_{mode}.json"
    if not path.is_file():
        raise ValueError(f"no tuned parameters ship for mode {mode!r} yet")
    return json.loads(path.read_text())


# Integrator options a solution was tuned with when its provenance predates them (gaitsim 0.1:
# linearly implicit fibre step, normal contact clipped at the start of the step).
_OPTIONS_BEFORE_0_2 = {"fiber_iterations": 0, "normal_contact": "explicit"}


def solver_options(solution: dict, fiber_iterations: int | None = None, normal_contact: str | None = None) -> dict:
    """``SemiImplicitEuler`` options (fiber_iterations, normal_contact) a tuned solution was tuned
    with, from its provenance; solutions tuned before the options existed get gaitsim 0.1's. An
    argument that is not None overrides the tuned option (command-line flags)."""
    objective = solution.get("provenance", {}).get("objective", {})
    options = {k: objective.get(k, v) for k, v in _OPTIONS_BEFORE_0_2.items()}
    given = {"fiber_iterations": fiber_iterations, "normal_contact": normal_contact}
    options.update({k: v for k, v in given.items() if v is not None})
    return options


def tuned_solver(solution: dict, backend: str = "numpy", fiber_iterations: int | None = None,
                 normal_contact: str | None = None) -> SemiImplicitEuler:
    """The integrator a tuned solution was tuned with (``solver_options``, with its overrides) on
    ``backend``."""
    return SemiImplicitEuler(backend=backend, **solver_options(solution, fiber_iterations, normal_contact))


def walker_from_solutions(model: Model, solutions, dt: float = 2.5e-4, backend: str = "numpy"):
    """(controller, initial_state) from tuned solution dicts (``optimize.solution`` format).

    solutions: one dict (used for every walker) or a list of one per walker, all of one mode.
    backend: the controller's backend, ``"numpy"`` or ``"numba"`` (see ``gaitsim.compiled``).
    """
    sols = [solutions] if isinstance(solutions, dict) else list(solutions)
    if len(sols) not in (1, model.batch_size):
        raise ValueError(f"solutions: expected 1 or {model.batch_size} solutions, got {len(sols)}")
    modes = {s["mode"] for s in sols}
    if len(modes) != 1:
        raise ValueError(f"solutions: all must share one controller mode, got {sorted(modes)}")
    stack = (lambda vals: vals[0]) if len(sols) == 1 else np.array  # noqa: E731
    speed = stack([s["start"]["speed"] for s in sols])
    offsets = {k: stack([s["start"]["pose_offsets"][k] for s in sols]) for k in sols[0]["start"]["pose_offsets"]}
    names = sorted({k for s in sols for k in s["gains"]})  # a gain a solution lacks takes its default
    default = asdict(ReflexGains())
    gains = {k: stack([s["gains"].get(k, default.get(k, np.nan)) for s in sols]) for k in names}
    x0 = walking_state(model, speed=speed, pose_offsets=offsets)
    return ReflexController(gains=gains, mode=modes.pop(), dt=dt, backend=backend), x0


def healthy_walker(model: Model, mode: str = "trunk_initiated", dt: float = 2.5e-4, backend: str = "numpy"):
    """(controller, initial_state) of the shipped tuned walker for every walker of ``model``."""
    return walker_from_solutions(model, load_tuned(mode), dt, backend)
