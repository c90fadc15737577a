"""Tuned controller parameters shipped with gaitsim, with their provenance.

``load_tuned(mode)`` returns the JSON dict written by ``optimize.tune`` (gains, start state,
provenance: objective, seed, population, generations, and the command that reproduces it).
``healthy_walker(model, mode)`` builds the controller and the initial state from it,
``tuned_solver(solution)`` the integrator the solution was tuned with and ``tuned_dt(solution)``
its step: a reflex walker's gait is tuned together with its integrator's errors, so it must be
run with the same options and step.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict
from importlib import resources

import numpy as np

from .integrate import SOLVER_OPTIONS, SemiImplicitEuler
from .model import Model
from .reflex import MODES, ReflexController, ReflexGains
from .walking_start import walking_state


#: the body every shipped walker was tuned on: ``build_model``'s default subject (its objective
#: never set another), kg and m
TUNED_BODY = {"body_mass": 75.0, "height": 1.75}
#: bodies on which both shipped walkers were seen to walk 20 s, each varied with the other at its
#: tuned value (numba, 0.5-ms step). Trunk-initiated (stage 16): 50-90 kg walked in steps of 2.5
#: kg, 47.5 kg fell at 10.3 s and 45 kg at 4.5 s; 1.46-2.00 m walked (the tested ends). Geyer-Herr: 55-90 kg
#: walked, 50 kg fell at 4.1 s and 45 kg at 4.5 s; 1.54-1.96 m walked (the tested ends).
#: ``walker_from_solutions`` warns outside the range around the tuned body where both walked every
#: tested body. kg and m.
BODY_RANGE = {"body_mass": (55.0, 90.0), "height": (1.58, 1.96)}


class BodyOutOfRangeWarning(UserWarning):
    """A tuned controller runs on a body far from the one it was tuned on."""


def warn_if_body_out_of_range(model: Model) -> None:
    """Warn once per call when a walker's body mass or height lies outside ``BODY_RANGE``: a reflex
    controller is tuned for one body and may fall on another (re-tune it for that body: adapted
    mode)."""
    far = []
    for key, param in (("body_mass", "subject.body_mass"), ("height", "subject.height")):
        values = np.asarray(model.params[param], dtype=float).reshape(-1)
        low, high = BODY_RANGE[key]
        outside = values[(values < low) | (values > high)]
        if outside.size:
            far.append(f"{key} {outside[0]:g} (outside {low:g}-{high:g})")
    if far:
        warnings.warn(f"the shipped walkers were tuned on a {TUNED_BODY['body_mass']:g} kg, "
                      f"{TUNED_BODY['height']:g} m body; this model has " + "; ".join(far)
                      + ", outside the range where both shipped walkers were seen to walk 20 s. Re-tune the controller "
                      "for this body (adapted mode) for trustworthy gait.", BodyOutOfRangeWarning, stacklevel=3)


def load_tuned(mode: str = "trunk_initiated") -> dict:
    """The shipped tuned parameters of a controller mode (``ValueError`` if none ship)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    path = resources.files("gaitsim") / "data" / f"tuned_{mode}.json"
    if not path.is_file():
        raise ValueError(f"no tuned parameters ship for mode {mode!r} yet")
    return json.loads(path.read_text())


# Integrator options a solution was tuned with when its provenance predates them (gaitsim 0.1:
# linearly implicit fibre step, normal contact clipped at the start of the step; before 0.4: no
# mechanics sub-steps; before 0.5: backward-Euler damping).
_OPTIONS_BEFORE_THEY_EXISTED = {"fiber_iterations": 0, "normal_contact": "explicit", "mechanics_substeps": 1,
                                "damping_theta": 1.0}
assert set(_OPTIONS_BEFORE_THEY_EXISTED) == set(SOLVER_OPTIONS)


def solver_options(solution: dict, **overrides) -> dict:
    """``SemiImplicitEuler`` options (``SOLVER_OPTIONS``) a tuned solution was tuned with, from its
    provenance; options its provenance predates take their values from before they existed.
    A keyword argument that is not None overrides the tuned option (command-line flags)."""
    unknown = sorted(set(overrides) - set(SOLVER_OPTIONS))
    if unknown:
        raise ValueError(f"unknown solver option(s) {unknown}; allowed: {list(SOLVER_OPTIONS)}")
    objective = solution.get("provenance", {}).get("objective", {})
    options = {k: objective.get(k, v) for k, v in _OPTIONS_BEFORE_THEY_EXISTED.items()}
    options.update({k: v for k, v in overrides.items() if v is not None})
    return options


def tuned_dt(solution: dict) -> float:
    """The step (s) a tuned solution was tuned at (its objective's ``dt``; 2.5e-4 s, the step of
    every solution whose provenance lacks it)."""
    return float(solution.get("provenance", {}).get("objective", {}).get("dt", 2.5e-4))


def tuned_solver(solution: dict, backend: str = "auto", **overrides) -> SemiImplicitEuler:
    """The integrator a tuned solution was tuned with (``solver_options``, with its overrides) on
    ``backend``."""
    return SemiImplicitEuler(backend=backend, **solver_options(solution, **overrides))


def tuned_integration(solution: dict | str = "trunk_initiated", backend: str = "auto") -> dict:
    """``{"dt": ..., "solver": ...}`` to pass to ``simulate`` for a tuned solution (a dict, or the
    mode of a shipped walker): the step and integrator it was tuned with, on ``backend``."""
    sol = load_tuned(solution) if isinstance(solution, str) else solution
    return {"dt": tuned_dt(sol), "solver": tuned_solver(sol, backend)}


def walker_from_solutions(model: Model, solutions, dt: float | None = None, backend: str = "auto",
                          warn_body: bool = True):
    """(controller, initial_state) from tuned solution dicts (``optimize.solution`` format).

    solutions: one dict (used for every walker) or a list of one per walker, all of one mode.
    The controller takes its step from the solver (``simulate``'s dt); run a tuned walker at the
    step it was tuned at, ``simulate(..., **tuned_integration(solution))``. dt: optional, binds
    the controller to that step (s) at once (``ReflexController(dt=)``: a solver with another
    step is then refused).
    backend: the controller's backend, ``"auto"``, ``"numpy"`` or ``"numba"`` (see ``gaitsim.compiled``).
    warn_body: warn when the body lies outside ``BODY_RANGE`` (off for controllers re-tuned for it).
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
    if warn_body:
        warn_if_body_out_of_range(model)
    x0 = walking_state(model, speed=speed, pose_offsets=offsets)
    return ReflexController(gains=gains, mode=modes.pop(), dt=dt, backend=backend), x0


def healthy_walker(model: Model, mode: str = "trunk_initiated", dt: float | None = None, backend: str = "auto"):
    """(controller, initial_state) of the shipped tuned walker for every walker of ``model``. Simulate
    it with the step and integrator it was tuned with: ``simulate(..., **tuned_integration(mode))``
    (the controller takes the step from the solver; dt (s), optional, binds it to a step at once)."""
    return walker_from_solutions(model, load_tuned(mode), dt, backend)
