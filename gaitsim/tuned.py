"""Tuned controller parameters shipped with gaitsim, with their provenance.

``load_tuned(mode)`` returns the JSON dict written by ``optimize.tune`` (gains, start state,
provenance: objective, seed, population, generations, and the command that reproduces it).
``healthy_walker(model, mode)`` builds the controller and the initial state from it.
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np

from .model import Model
from .reflex import MODES, ReflexController
from .walking_start import walking_state


def load_tuned(mode: str = "trunk_initiated") -> dict:
    """The shipped tuned parameters of a controller mode (``ValueError`` if none ship)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    path = resources.files("gaitsim") / "data" / f"tuned_{mode}.json"
    if not path.is_file():
        raise ValueError(f"no tuned parameters ship for mode {mode!r} yet")
    return json.loads(path.read_text())


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
    gains = {k: stack([s["gains"][k] for s in sols]) for k in sols[0]["gains"]}
    x0 = walking_state(model, speed=speed, pose_offsets=offsets)
    return ReflexController(gains=gains, mode=modes.pop(), dt=dt, backend=backend), x0


def healthy_walker(model: Model, mode: str = "trunk_initiated", dt: float = 2.5e-4, backend: str = "numpy"):
    """(controller, initial_state) of the shipped tuned walker for every walker of ``model``."""
    return walker_from_solutions(model, load_tuned(mode), dt, backend)
