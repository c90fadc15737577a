"""Scenarios: a body, its impairments, the controller that walks it and how it is run, as data.

A ``Scenario`` is one frozen, declarative object (after SCONE's scenario files: model + named
overrides + controller + measures): the body (mass, height), named impairments with severities
in [0, 1] (``gaitsim.impairments``: each defined by what a clinician measures and checked by the
virtual exams of ``gaitsim.exam``), raw parameter changes by name or glob, the controller (a
shipped tuned walker or the pose-holding test actuators) with gain overrides, the start, the
step (entered once: the controller's delay lines are built for it), the integrator options,
the duration, what is saved and how many start-up seconds the measures skip.

``run()`` simulates it (acute mode: the shipped controller on the changed body) and returns a
``ScenarioResult`` that carries the scenario; ``run_batch([...])`` simulates several scenarios as
one batch (each walker its own row: the same numbers as separate runs). Scenarios load from and
save to TOML (``load``, ``save``, ``to_toml``; a file may ``include`` others, later keys win), and
the resolved scenario written beside every result reproduces it.

Keys of a scenario (TOML tables in brackets)::

    name, description, duration, backend, mode ("acute" | "adapted"), seed (which adapted solution)
    [body]         body_mass (kg), height (m)
    [impairments]  knob = severity, a knob from gaitsim.impairments.IMPAIRMENTS, one side with _r / _l
    [exam_targets] an exam result instead of a severity (EXAM_TARGETS), e.g. dorsiflexion_range_deg = 0
    [parameters]   "group.field[.element-glob]" = value      (set, e.g. "muscle.passive_stiffness.soleus_*")
    [scale]        "group.field[.element-glob]" = factor
    [controller]   walker ("trunk_initiated" | "geyer_herr" | "pose_hold"), gains = {name = value}
    [start]        kind ("tuned" | "standing"), height_above_ground (m, standing only)
    [integrator]   dt (s; default: the walker's tuned step), fiber_iterations, normal_contact,
                   mechanics_substeps, damping_theta (default: what the walker was tuned with)
    [output]       save_interval (s between saved samples), skip (s of start-up the measures skip),
                   fall_height (m)
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Mapping

import numpy as np

from . import impairments as imp
from .control import ExcitationOffset, PoseHold
from .integrate import DEFAULT_DT, SOLVER_OPTIONS, SaveEvery, SemiImplicitEuler, simulate
from .model import Model, build_model, stack_models
from .reflex import MODES, ReflexGains
from .results import Results
from .state import initial_state, standing_pose

#: controllers a scenario can name: the shipped tuned reflex walkers, or stiff joint test actuators
CONTROLLERS = MODES + ("pose_hold",)
#: acute: the shipped controller walks the changed body; adapted: a controller re-tuned for it
#: (``gaitsim.adapt``; ``seed`` picks which of its solutions)
MODES_OF_CONTROL = ("acute", "adapted")
#: how a scenario starts: the tuned walker's own start (walking), or standing still
STARTS = ("tuned", "standing")
#: the step's allowed range (s), as ``simulate`` checks it
DT_RANGE = (1e-7, 1e-2)
SIDES = ("r", "l")


def _scalar(value, name: str, low: float, high: float, *, low_open: bool = False) -> float:
    """A finite number in [low, high] (or (low, high]) or ValueError naming ``name`` and the range."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number in {'(' if low_open else '['}{low:g}, {high:g}], got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v > high or v < low or (low_open and v == low):
        raise ValueError(f"{name} must lie in {'(' if low_open else '['}{low:g}, {high:g}], got {value!r}")
    return v


def split_side(key: str) -> tuple[str, str]:
    """("calf_stiffness", "r") for "calf_stiffness_r"; ("calf_stiffness", "both") without a suffix."""
    for side in SIDES:
        if key.endswith("_" + side) and key[:-2] in imp.IMPAIRMENTS:
            return key[:-2], side
    return key, "both"


#: exam results a user may give instead of a severity: name -> (impairment knob, factor to SI).
#: ``severity_for_exam`` finds the severity whose virtual exam gives that result.
EXAM_TARGETS = {
    "dorsiflexion_range_deg": ("calf_stiffness", math.pi / 180.0),  # knee extended, 10 N m (gaitsim.exam)
    "thomas_hip_angle_deg": ("psoas_shortening", math.pi / 180.0),  # + = thigh above the table
    "dorsiflexor_strength_pct": ("weak_dorsiflexors", 0.01),  # peak isometric moment, % of the healthy model's
}


def severity_from_exam(name: str, value, body_mass: float = 75.0, height: float = 1.75) -> tuple[str, float]:
    """(knob[_side], severity) whose virtual exam gives ``value`` for exam result ``name`` (a key of
    ``EXAM_TARGETS``, optionally with ``_r``/``_l``), on a body of this mass and height."""
    side = ""
    if name[-2:] in ("_r", "_l") and name[:-2] in EXAM_TARGETS:
        name, side = name[:-2], name[-2:]
    if name not in EXAM_TARGETS:
        raise _unknown("exam result", name, EXAM_TARGETS)
    knob, factor = EXAM_TARGETS[name]
    v = _scalar(value, name, -1e6, 1e6)
    body = {"body_mass": body_mass, "height": height}
    reachable = np.sort(imp.exam_value(knob, [0.0, 1.0], body)) / factor
    if not reachable[0] - 1e-9 <= v <= reachable[1] + 1e-9:
        raise ValueError(f"{name}: {v:g} is outside what {knob} severities 0-1 give on this body "
                         f"({reachable[0]:.3g} to {reachable[1]:.3g})")
    severity = imp.severity_for_exam(knob, v * factor, body)
    return knob + side, round(severity, 4)


def _unknown(kind: str, name: str, allowed) -> ValueError:
    near = difflib.get_close_matches(name, list(allowed), n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    return ValueError(f"unknown {kind} {name!r}{hint}; allowed: {', '.join(allowed)}")


@dataclass(frozen=True)
class Scenario:
    """One simulated subject and how it is run (module docstring). SI units: kg, m, s.

    Build one with ``Scenario.preset(name, severity)``, ``Scenario.load(path)``,
    ``Scenario(**fields)`` or ``scenario.replace(...)`` / ``scenario.with_settings({...})``.
    Every field is checked at construction: a bad one raises ValueError naming it and what is
    allowed. ``key()`` is a hash of the resolved content (the scenario's identity).
    """

    name: str = "healthy"
    description: str = ""
    body_mass: float = 75.0
    height: float = 1.75
    impairments: Mapping[str, float] = field(default_factory=dict)
    parameters: Mapping[str, float] = field(default_factory=dict)
    scale: Mapping[str, float] = field(default_factory=dict)
    controller: str = "trunk_initiated"
    gains: Mapping[str, float] = field(default_factory=dict)
    start: str = "tuned"
    start_height: float = 0.0
    dt: float | None = None
    integrator: Mapping[str, object] = field(default_factory=dict)
    backend: str = "auto"
    duration: float = 10.0
    mode: str = "acute"
    seed: int = 1
    save_interval: float = 0.002
    skip: float = 1.0
    fall_height: float = 0.4

    def __post_init__(self):
        put = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731  (frozen)
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        put("body_mass", _scalar(self.body_mass, "body_mass (kg)", 0.0, 500.0, low_open=True))
        put("height", _scalar(self.height, "height (m)", 0.0, 3.0, low_open=True))
        put("impairments", self._checked_impairments(self.impairments))
        for kind in ("parameters", "scale"):
            raw = getattr(self, kind)
            if not isinstance(raw, Mapping):
                raise ValueError(f"{kind} must be a table of parameter name -> number, got {type(raw).__name__}")
            put(kind, {str(k): _scalar(v, f"{kind}.{k}", -1e9, 1e9) for k, v in sorted(raw.items())})
        if self.controller not in CONTROLLERS:
            raise _unknown("controller", str(self.controller), CONTROLLERS)
        if not isinstance(self.gains, Mapping):
            raise ValueError(f"gains must be a table of reflex gain name -> number, got {type(self.gains).__name__}")
        for k in self.gains:
            if k not in ReflexGains.names():
                raise _unknown("reflex gain", str(k), ReflexGains.names())
        if self.gains and self.controller == "pose_hold":
            raise ValueError("gains: the pose_hold controller has no reflex gains; use a reflex walker")
        put("gains", {k: _scalar(v, f"gains.{k}", -1e6, 1e6) for k, v in sorted(self.gains.items())})
        if self.start not in STARTS:
            raise _unknown("start", str(self.start), STARTS)
        if self.start == "tuned" and self.controller == "pose_hold":
            raise ValueError("start: the pose_hold controller has no tuned start; use start = 'standing'")
        put("start_height", _scalar(self.start_height, "start_height (m)", 0.0, 1.0))
        if self.dt is not None:
            put("dt", _scalar(self.dt, "dt (s)", *DT_RANGE))
        if not isinstance(self.integrator, Mapping):
            raise ValueError("integrator must be a table of SemiImplicitEuler options")
        for k in self.integrator:
            if k not in SOLVER_OPTIONS:
                raise _unknown("integrator option", str(k), SOLVER_OPTIONS)
        put("integrator", dict(sorted(self.integrator.items())))
        from .compiled import BACKEND_CHOICES

        if self.backend not in BACKEND_CHOICES:
            raise _unknown("backend", str(self.backend), BACKEND_CHOICES)
        SemiImplicitEuler(backend="numpy", **self.integrator)  # checks each option's value, naming it
        put("duration", _scalar(self.duration, "duration (s)", 0.0, 1e5, low_open=True))
        if self.mode not in MODES_OF_CONTROL:
            raise _unknown("mode", str(self.mode), MODES_OF_CONTROL)
        if self.mode == "adapted" and self.controller == "pose_hold":
            raise ValueError("mode: the pose_hold controller has no adapted form; use mode = 'acute'")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0 (which adapted solution runs), got {self.seed!r}")
        put("save_interval", _scalar(self.save_interval, "save_interval (s)", 0.0, 1.0, low_open=True))
        put("skip", _scalar(self.skip, "skip (s)", 0.0, 1e5))
        put("fall_height", _scalar(self.fall_height, "fall_height (m)", 0.0, 2.0))
        self.model()  # checks the raw parameter names, globs and values against the parameter table

    @staticmethod
    def _checked_impairments(raw) -> dict[str, float]:
        if not isinstance(raw, Mapping):
            raise ValueError(f"impairments must be a table of knob -> severity, got {type(raw).__name__}")
        allowed = list(imp.IMPAIRMENTS) + [f"{k}_{s}" for k, v in imp.IMPAIRMENTS.items() if v.one_sided for s in SIDES]
        out = {}
        for key, sev in sorted(raw.items()):
            knob, _ = split_side(str(key))
            if knob not in imp.IMPAIRMENTS:
                raise _unknown("impairment", str(key), allowed)
            out[str(key)] = _scalar(sev, f"impairments.{key} (severity)", 0.0, 1.0)
        return out

    # ----- construction --------------------------------------------------------------------------
    @classmethod
    def preset(cls, name: str, /, severity: float | None = None, **changes) -> "Scenario":
        """A shipped preset (``PRESETS``): ``healthy``, ``stand``, ``drop``, the impairments
        (``tight_psoas``, ``psoas_tone``, ``stiff_calves``, ``calf_reflex_loss``,
        ``weak_dorsiflexors``), one-sided forms (``tight_psoas_r`` ...) and combinations
        (``tight_psoas+stiff_calves``). ``severity`` (0-1, default 0.6) sets every impairment of
        the preset; keyword arguments replace fields."""
        parts = name.split("+")
        specs = []
        for part in parts:
            base, side = part, "both"
            if part not in PRESETS and part[-2:] in ("_r", "_l") and part[:-2] in PRESETS:
                base, side = part[:-2], part[-1]
            if base not in PRESETS:
                raise _unknown("preset", part, preset_names())
            specs.append((base, side))
        if len(specs) > 1 and any(not PRESETS[b].get("impairments") for b, _ in specs):
            raise ValueError(f"preset {name!r}: only impairment presets combine with '+'")
        sev = 0.6 if severity is None else _scalar(severity, "severity", 0.0, 1.0)
        merged: dict = {}
        impairments: dict[str, float] = {}
        descriptions = []
        for base, side in specs:
            spec = dict(PRESETS[base])
            descriptions.append(spec.pop("description", ""))
            for knob in spec.pop("impairments", ()):
                impairments[knob if side == "both" else f"{knob}_{side}"] = sev
            merged.update(spec)
        if side_only := [s for _, s in specs if s != "both"]:
            descriptions.append(f"{'right' if side_only[0] == 'r' else 'left'} side only")
        fields_ = {"name": name, "description": "; ".join(d for d in descriptions if d), "impairments": impairments,
                   **merged}
        fields_.update(changes)
        return cls(**fields_)

    @classmethod
    def from_dict(cls, data: Mapping, source: str = "scenario") -> "Scenario":
        """A scenario from its nested dict form (``to_dict``, a TOML file's tables); unknown keys
        raise ValueError naming them and the allowed ones."""
        flat: dict = {}
        exam_targets: dict = {}
        for key, value in data.items():
            if key in _TOP_LEVEL:
                flat[key] = value
                continue
            if key not in _TABLES and key not in _MAPPING_TABLES and key != _EXAM_TABLE:
                hint = " ('include' is read by Scenario.load)" if key == "include" else ""
                raise ValueError(str(_unknown(f"key of {source}", str(key), _TOP_LEVEL + tuple(_TABLES)
                                              + _MAPPING_TABLES)) + hint)
            if not isinstance(value, Mapping):
                raise ValueError(f"{source}: [{key}] must be a table, got {value!r}")
            if key in _MAPPING_TABLES:
                flat[key] = dict(value)
                continue
            if key == _EXAM_TABLE:  # exam results: turned into severities below, on the final body
                exam_targets = dict(value)
                continue
            for sub, v in value.items():
                if key == "integrator" and sub in SOLVER_OPTIONS:
                    flat.setdefault("integrator", {})[sub] = v
                elif sub in _TABLES[key]:
                    flat[_TABLES[key][sub]] = v
                else:
                    extra = SOLVER_OPTIONS if key == "integrator" else ()
                    raise _unknown(f"key in [{key}] of {source}", str(sub), tuple(_TABLES[key]) + extra)
        for name, v in exam_targets.items():  # after every table: the body and the other impairments are known
            knob, severity = severity_from_exam(str(name), v, flat.get("body_mass", 75.0), flat.get("height", 1.75))
            flat.setdefault("impairments", {})[knob] = severity
        return cls(**flat)

    @classmethod
    def load(cls, path) -> "Scenario":
        """A scenario from a TOML file; ``include = ["base.toml", ...]`` (paths relative to the file)
        are read first, and this file's keys replace theirs (tables merged key by key)."""
        return cls.from_dict(read_toml_with_includes(Path(path), ()), source=str(path))

    def to_dict(self) -> dict:
        """The nested dict form (what ``to_toml`` writes); ``from_dict`` inverts it."""
        out: dict = {k: getattr(self, k) for k in _TOP_LEVEL}
        for table, keys in _TABLES.items():
            out[table] = {sub: getattr(self, attr) for sub, attr in keys.items() if getattr(self, attr) is not None}
        out["controller"]["gains"] = dict(self.gains)
        out["integrator"].update(self.integrator)
        for table in _MAPPING_TABLES:
            out[table] = dict(getattr(self, table))
        return out

    def to_toml(self) -> str:
        """TOML text that ``Scenario.load`` reads back to an equal scenario."""
        import tomli_w

        return tomli_w.dumps(self.to_dict())

    def save(self, path) -> Path:
        """Write ``to_toml()`` to ``path``; returns the path."""
        p = Path(path)
        p.write_text(f"# gaitsim scenario (resolved); gaitsim.Scenario.load reads it back\n{self.to_toml()}")
        return p

    def replace(self, **changes) -> "Scenario":
        """A copy with fields replaced (checked like a new scenario)."""
        return replace(self, **changes)

    def with_settings(self, settings: Mapping[str, object]) -> "Scenario":
        """A copy with ``knob=value`` settings applied, as the command line's ``--set`` gives them:
        a field (``duration``, ``body_mass`` ...), an impairment knob (``psoas_shortening``,
        ``calf_stiffness_r``), an exam result that sets its knob's severity (``EXAM_TARGETS``:
        ``dorsiflexion_range_deg=0``), a reflex gain (``calf_stretch_gain``), an integrator option or
        a raw parameter name or glob (``muscle.passive_stiffness.soleus_*``)."""
        changes: dict = {}
        impairments, gains = dict(self.impairments), dict(self.gains)
        parameters, integrator = dict(self.parameters), dict(self.integrator)
        simple = {f.name for f in fields(self)} - {"impairments", "parameters", "scale", "gains", "integrator"}
        for key, value in settings.items():
            if key in EXAM_TARGETS or (key[-2:] in ("_r", "_l") and key[:-2] in EXAM_TARGETS):
                knob, severity = severity_from_exam(key, value, settings.get("body_mass", self.body_mass),
                                                    settings.get("height", self.height))
                impairments[knob] = severity
            elif key in simple:
                changes[key] = value
            elif split_side(key)[0] in imp.IMPAIRMENTS:
                impairments[key] = value
            elif key in ReflexGains.names():
                gains[key] = value
            elif key in SOLVER_OPTIONS:
                integrator[key] = value
            elif "." in key:
                parameters[key] = value
            else:
                raise ValueError(f"--set {key}: not a scenario field ({', '.join(sorted(simple))}), impairment "
                                 f"({', '.join(imp.IMPAIRMENTS)}), reflex gain, integrator option "
                                 f"({', '.join(SOLVER_OPTIONS)}) or parameter name (group.field[.element])")
        return replace(self, impairments=impairments, gains=gains, parameters=parameters, integrator=integrator,
                       **changes)

    def key(self) -> str:
        """A hash (16 hex digits) of the resolved scenario's content: equal scenarios, equal keys."""
        text = json.dumps(self.resolved().to_dict(), sort_keys=True, default=float)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    # ----- what it resolves to -------------------------------------------------------------------
    def resolved(self) -> "Scenario":
        """The same scenario with every default made explicit: the step and integrator options the
        walker was tuned with, the backend chosen by ``"auto"``. Saved beside every result."""
        from .compiled import resolve_backend

        tuned = self._tuned_solution()
        if tuned is not None:
            from .tuned import solver_options, tuned_dt

            dt = tuned_dt(tuned) if self.dt is None else self.dt
            options = solver_options(tuned, **self.integrator)
        else:
            dt = DEFAULT_DT if self.dt is None else self.dt
            defaults = SemiImplicitEuler(backend="numpy", **self.integrator)
            options = {k: getattr(defaults, k) for k in SOLVER_OPTIONS}
        return replace(self, dt=dt, integrator=options, backend=resolve_backend(self.backend))

    def _tuned_solution(self) -> dict | None:
        if self.controller == "pose_hold":
            return None
        from .tuned import load_tuned

        return load_tuned(self.controller)

    def changes(self, batch_size: int = 1) -> "imp.ImpairmentChanges":
        """The parameter factors, gain factors and excitation offsets of this scenario's impairments
        (``gaitsim.impairments.impairment_changes``), both sides and one-sided knobs merged."""
        by_side: dict[str, dict[str, float]] = {}
        for key, sev in self.impairments.items():
            knob, side = split_side(key)
            by_side.setdefault(side, {})[knob] = sev
        parts = [imp.impairment_changes(sev, batch_size, side=side) for side, sev in sorted(by_side.items())]
        if not parts:
            return imp.impairment_changes({}, batch_size)
        return _merged_changes(parts)

    def model(self) -> Model:
        """The body of one walker: defaults for this mass and height, the impairments' factors,
        then the raw ``scale`` factors, then the raw ``parameters`` (set last)."""
        ch = self.changes(1)
        scale = dict(ch.scale)
        for k, v in self.scale.items():
            scale[k] = scale[k] * v if k in scale else v
        return build_model(batch_size=1, body_mass=self.body_mass, height=self.height,
                           parameters=dict(self.parameters),
                           scale=scale)

    def exam(self, side: str | None = None):
        """The virtual clinical exams of this scenario's body (``gaitsim.exam.run_exams``), with the
        excitation offsets of its neural impairments, on ``side`` ("r" or "l"; default: the right
        side, unless every impairment is on the left only)."""
        from . import exam

        if side is None:
            sides = {split_side(k)[1] for k in self.impairments}
            side = "l" if sides == {"l"} else "r"
        return exam.run_exams(self.model(), side=side, excitation_offset=self.changes(1).excitation_offset)

    # ----- running ---------------------------------------------------------------------------------
    def run(self, duration: float | None = None, *, progress=None) -> "ScenarioResult":
        """Simulate (acute mode: the shipped controller on this body) for ``duration`` s (default:
        the scenario's). Ctrl-C stops cleanly: the result keeps what was done (``interrupted``)."""
        return run_batch([self], duration=duration, progress=progress)[0]


def _merged_changes(parts):
    """One ``ImpairmentChanges`` from several (the sides' knobs): factors multiply, offsets add."""
    def combine(attr, op):
        merged: dict = {}
        for part in parts:
            for k, v in getattr(part, attr).items():
                merged[k] = op(merged[k], v) if k in merged else v
        return merged

    return replace(parts[0], scale=combine("scale", np.multiply), gain_factors=combine("gain_factors", np.multiply),
                   excitation_offset=combine("excitation_offset", np.add))


def preset_names() -> list[str]:
    """Every preset name ``Scenario.preset`` accepts besides '+' combinations."""
    one_sided = [f"{n}_{s}" for n, p in PRESETS.items()
                 if p.get("impairments") and all(imp.IMPAIRMENTS[k].one_sided for k in p["impairments"]) for s in SIDES]
    return list(PRESETS) + one_sided


#: shipped presets: fields of ``Scenario``; ``impairments`` lists the knobs that ``severity`` sets
PRESETS: dict[str, dict] = {
    "healthy": {"description": "the shipped tuned trunk-initiated walker on the default body"},
    "stand": {"description": "held upright by stiff joint actuators, settles on its feet", "controller": "pose_hold",
              "start": "standing", "duration": 1.5, "skip": 0.0},
    "drop": {"description": "held upright by stiff joint actuators, dropped from 2 cm", "controller": "pose_hold",
             "start": "standing", "start_height": 0.02, "duration": 1.0, "skip": 0.0},
    "tight_psoas": {"description": "structurally short psoas (positive Thomas test)",
                    "impairments": ("psoas_shortening",)},
    "psoas_tone": {"description": "psoas and iliacus 'stuck in contraction': raised resting excitation",
                   "impairments": ("psoas_tone",)},
    "stiff_calves": {"description": "plantarflexor contracture (reduced passive dorsiflexion)",
                     "impairments": ("calf_stiffness",)},
    "calf_reflex_loss": {"description": "blunted calf stretch reflex (less 'spring in the step')",
                         "impairments": ("calf_reflex_responsiveness",)},
    "weak_dorsiflexors": {"description": "weak tibialis anterior (reduced dorsiflexor strength)",
                          "impairments": ("weak_dorsiflexors",)},
}

# TOML layout: top-level keys; tables whose entries map to fields; tables that are a field's mapping
_TOP_LEVEL = ("name", "description", "duration", "backend", "mode", "seed")
_TABLES = {
    "body": {"body_mass": "body_mass", "height": "height"},
    "controller": {"walker": "controller", "gains": "gains"},
    "start": {"kind": "start", "height_above_ground": "start_height"},
    "integrator": {"dt": "dt"},  # and the SOLVER_OPTIONS, each as its own key
    "output": {"save_interval": "save_interval", "skip": "skip", "fall_height": "fall_height"},
}
_MAPPING_TABLES = ("impairments", "parameters", "scale")
#: read-only table: exam results (``EXAM_TARGETS``) that set impairment severities when loaded
_EXAM_TABLE = "exam_targets"


def read_toml_with_includes(path: Path, seen: tuple = ()) -> dict:
    """A TOML file's dict with its ``include = [...]`` files (relative to it) merged under it, tables
    merged key by key; ``seen``: the files including this one (a cycle is refused)."""
    if not path.is_file():
        raise ValueError(f"scenario file {str(path)!r} not found")
    if path.resolve() in seen:
        raise ValueError(f"scenario file {str(path)!r} includes itself (through {', '.join(map(str, seen))})")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"scenario file {str(path)!r} is not valid TOML: {e}") from None
    includes = data.pop("include", [])
    if isinstance(includes, str):
        includes = [includes]
    merged: dict = {}
    for inc in includes:
        _merge(merged, read_toml_with_includes(path.parent / inc, seen + (path.resolve(),)))
    _merge(merged, data)
    return merged


def _merge(base: dict, new: dict) -> None:
    for k, v in new.items():
        if isinstance(v, Mapping) and isinstance(base.get(k), Mapping):
            inner = dict(base[k])
            _merge(inner, v)
            base[k] = inner
        else:
            base[k] = v


# ----- results ---------------------------------------------------------------------------------------
@dataclass
class ScenarioResult:
    """A scenario's simulation: ``results`` (``gaitsim.Results`` of its one walker), the resolved
    ``scenario`` and its ``model``. ``measures`` computes ``gaitsim.measures.gait_measures`` once."""

    scenario: Scenario
    results: Results
    model: Model
    _measures: object = field(default=None, repr=False)

    @property
    def status(self) -> str:
        """'ok', 'fell at ... s' or 'diverged at ... s', plus ' (interrupted at t = ... s)'."""
        text = self.results.status_text()[0]
        if self.results.interrupted:
            text += f" (interrupted at t = {self.results.t_end:.3f} s)"
        return text

    @property
    def measures(self):
        if self._measures is None:
            from .measures import gait_measures

            self._measures = gait_measures(self.results, self.model, skip=self.scenario.skip)
        return self._measures

    @classmethod
    def load(cls, folder) -> "ScenarioResult":
        """The result a run wrote into ``folder`` (``results.npz`` and ``scenario.toml``, as ``save``
        and ``gaitsim run`` write them): walker 0 of the results, the scenario, its model."""
        out = Path(folder)
        missing = [n for n in ("results.npz", "scenario.toml") if not (out / n).is_file()]
        if missing:
            raise ValueError(f"{str(out)!r} is not a gaitsim run folder: {', '.join(missing)} missing "
                             f"(write one with `gaitsim run ... --out FOLDER` or ScenarioResult.save)")
        scenario = Scenario.load(out / "scenario.toml")
        return cls(scenario, Results.load(out / "results.npz").select(0), scenario.model())

    def save(self, folder) -> dict[str, Path]:
        """Write ``results.npz`` and the resolved ``scenario.toml`` (which reproduces the run) into
        ``folder``; returns their paths."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"results": out / "results.npz", "scenario": out / "scenario.toml"}
        self.results.save(paths["results"])
        self.scenario.save(paths["scenario"])
        return paths


#: the settings every walker of one batch shares (one controller law, one step and save policy)
BATCH_SHARED = ("controller", "start", "dt", "integrator", "backend", "duration", "save_interval", "fall_height")


def batch_signature(scenario: Scenario) -> str:
    """Text equal for scenarios that can share one batch (their resolved ``BATCH_SHARED`` settings)."""
    r = scenario.resolved()
    return json.dumps({k: getattr(r, k) for k in BATCH_SHARED}, sort_keys=True, default=str)


def batch_groups(scenarios) -> list[list[int]]:
    """Indices of the scenarios grouped by ``batch_signature``, groups in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(scenarios):
        groups.setdefault(batch_signature(s), []).append(i)
    return list(groups.values())


def _batch_setting(resolved: list[Scenario], attr: str):
    values = {json.dumps(getattr(s, attr), sort_keys=True, default=str) for s in resolved}
    if len(values) > 1:
        raise ValueError(f"run_batch: the scenarios differ in {attr} ({sorted(values)}); a batch shares its "
                         f"controller, step, integrator, backend, duration and save settings")
    return getattr(resolved[0], attr)


def build_batch(scenarios) -> tuple[Model, object, np.ndarray, dict]:
    """(model, controller, initial_state, simulate keywords) for several scenarios as one batch of
    walkers, walker i being scenario i. They must share controller, step, integrator, backend,
    duration and save settings (ValueError naming the one that differs)."""
    resolved = [s.resolved() for s in scenarios]
    if not resolved:
        raise ValueError("run_batch: no scenarios given")
    for attr in BATCH_SHARED:
        _batch_setting(resolved, attr)
    first = resolved[0]
    model = stack_models([s.model() for s in resolved])
    b = model.batch_size
    changes = [s.changes(1) for s in resolved]
    solver = SemiImplicitEuler(backend=first.backend, **first.integrator)
    if first.controller == "pose_hold":
        controller = PoseHold()
        x0 = initial_state(model, standing_pose(model, np.array([s.start_height for s in resolved])))
    else:
        from .tuned import load_tuned, walker_from_solutions

        tuned = load_tuned(first.controller)
        solutions = []
        for s, ch in zip(resolved, changes):
            if s.mode == "adapted":  # re-tuned for this body: its gains already hold the impaired ones
                from .adapt import load_adapted

                solutions.append(load_adapted(s, s.seed))
                continue
            gains = dict(tuned["gains"])
            gains.update(imp.impaired_gains(ch, s.gains, tuned["gains"], asdict(ReflexGains())))
            solutions.append({**tuned, "gains": gains})
        adapted_only = all(s.mode == "adapted" for s in resolved)  # re-tuned for their bodies: no body warning
        controller, x0 = walker_from_solutions(model, solutions, backend=first.backend, warn_body=not adapted_only)
        if first.start == "standing":
            x0 = initial_state(model, standing_pose(model, np.array([s.start_height for s in resolved])))
    offsets = {}
    for i, ch in enumerate(changes):
        for muscle, value in ch.excitation_offset.items():
            offsets.setdefault(muscle, np.zeros(b))[i] = float(np.asarray(value).reshape(-1)[0])
    if offsets:
        controller = ExcitationOffset(controller, offsets)
    every = max(1, int(round(first.save_interval / first.dt)))
    kwargs = {"duration": first.duration, "dt": first.dt, "solver": solver, "save": SaveEvery(every),
              "fall_height": first.fall_height}
    return model, controller, x0, kwargs


def run_batch(scenarios, duration: float | None = None, *, progress=None) -> list[ScenarioResult]:
    """Simulate several scenarios as one batch (``build_batch``); one ``ScenarioResult`` each, in
    order. ``duration`` (s) replaces the scenarios' own. Ctrl-C stops cleanly: every result keeps
    what was done and says it was interrupted."""
    scenarios = [s if duration is None else replace(s, duration=duration) for s in scenarios]
    model, controller, x0, kwargs = build_batch(scenarios)
    res = simulate(model, controller, initial_state=x0, progress=progress, **kwargs)
    from .model import select_walkers

    return [ScenarioResult(s.resolved(), res.select(i), select_walkers(model, i)) for i, s in enumerate(scenarios)]


__all__ = ["BATCH_SHARED", "CONTROLLERS", "PRESETS", "STARTS", "Scenario", "ScenarioResult", "batch_groups",
           "batch_signature", "build_batch", "preset_names",
           "run_batch", "split_side"]
