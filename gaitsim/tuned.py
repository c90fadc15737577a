"""Tuned controller parameters shipped with gaitsim, with their provenance.

``load_tuned(mode)`` returns the JSON dict written by ``optimize.tune`` (gains, start state,
provenance: objective, seed, population, generations, and the command that reproduces it).
``healthy_walker(model, mode)`` builds the controller and the initial state from it.
"""

from __future__ import annotations

import json
from importlib import resources

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


def healthy_walker(model: Model, mode: str = "trunk_initiated", dt: float = 2.5e-4):
    """(controller, initial_state) of the shipped tuned walker for every walker of ``model``."""
    sol = load_tuned(mode)
    x0 = walking_state(model, speed=sol["start"]["speed"], pose_offsets=sol["start"]["pose_offsets"])
    return ReflexController(gains=sol["gains"], mode=sol["mode"], dt=dt), x0
