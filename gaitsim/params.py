"""Parameter tables: named arrays with units, allowed ranges and per-walker broadcasting.

Every model parameter lives in a flat table keyed ``"group.field"`` (for example
``"muscle.tendon_slack_length"``). Each entry has a per-walker shape given by its
element names (``MUSCLES``, ``BODIES``, ...) and is stored batch-first, shape
``(B, n_elements)`` (or ``(B,)`` for scalars). Users address parameters as

* ``"muscle.tendon_slack_length"`` -> the whole row (array of shape ``(n,)`` or ``(B, n)``);
* ``"muscle.tendon_slack_length.soleus_r"`` -> one element (scalar or ``(B,)``);
* ``"muscle.tendon_slack_length.soleus_*"`` -> every element matching the glob.

``set`` replaces values; ``scale`` multiplies them (SCONE's ``factor`` idiom).
Bad names, shapes and values raise ``ValueError`` naming the field and the allowed
range before any simulation starts.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Mapping

import numpy as np


@dataclass(frozen=True)
class ParamSpec:
    """Metadata of one parameter field.

    elements: names along the per-walker axis (``None`` for a scalar per walker).
    unit: SI unit string.
    low, high: allowed closed range (``-inf``/``inf`` for unbounded).
    strict_low: if True the lower bound is exclusive (e.g. masses must be > 0).
    doc: one line, with the source of the default.
    """

    elements: tuple[str, ...] | None
    unit: str
    low: float
    high: float
    doc: str
    strict_low: bool = False

    def range_text(self) -> str:
        lo = "(" if self.strict_low else "["
        return f"{lo}{self.low:g}, {self.high:g}] {self.unit}".strip()


class ParamTable:
    """A validated set of batch-first parameter arrays.

    ``values[key]`` has shape ``(B,)`` or ``(B, n_elements)``; all entries share B.
    """

    def __init__(self, specs: Mapping[str, ParamSpec], values: Mapping[str, np.ndarray]):
        self.specs = dict(specs)
        missing = set(self.specs) - set(values)
        if missing:
            raise ValueError(f"parameter table lacks {sorted(missing)}")
        batch = {np.asarray(v).shape[0] for v in values.values()}
        if len(batch) != 1:
            raise ValueError(f"parameter arrays disagree on the batch size: {sorted(batch)}")
        self.batch_size = batch.pop()
        self.values = {k: np.array(v, dtype=float) for k, v in values.items()}
        for key in self.values:
            validate(key, self.specs[key], self.values[key])

    def __getitem__(self, key: str) -> np.ndarray:
        return self.values[key]

    def element(self, key: str, name: str) -> np.ndarray:
        """Per-walker values ``(B,)`` of one element of a field."""
        spec = self.specs[key]
        return self.values[key][:, spec.elements.index(name)]

    def copy_with(self, values: Mapping[str, np.ndarray]) -> "ParamTable":
        new = dict(self.values)
        new.update(values)
        return ParamTable(self.specs, new)


def validate(key: str, spec: ParamSpec, value: np.ndarray) -> None:
    """Raise ``ValueError`` naming ``key`` and its allowed range if ``value`` is bad."""
    v = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{key}: values must be finite (allowed range {spec.range_text()}), got {_show(v)}")
    too_low = v <= spec.low if spec.strict_low else v < spec.low
    if np.any(too_low) or np.any(v > spec.high):
        bad = v[too_low | (v > spec.high)]
        raise ValueError(f"{key}: value {bad.ravel()[0]:g} outside the allowed range {spec.range_text()}")


def _show(v: np.ndarray) -> str:
    bad = v[~np.isfinite(v)]
    return repr(bad.ravel()[0]) if bad.size else "?"


def _split_key(key: str, specs: Mapping[str, ParamSpec]) -> tuple[str, str | None]:
    """Split ``"group.field[.element-glob]"`` into (field key, element glob or None)."""
    parts = key.split(".")
    if len(parts) >= 2 and ".".join(parts[:2]) in specs:
        field = ".".join(parts[:2])
        element = ".".join(parts[2:]) or None
        return field, element
    known = ", ".join(sorted(specs))
    raise ValueError(f"unknown parameter {key!r}; known fields: {known}")


def _element_indices(field: str, spec: ParamSpec, pattern: str) -> list[int]:
    if spec.elements is None:
        raise ValueError(f"{field} is one value per walker; it has no element {pattern!r}")
    idx = [i for i, name in enumerate(spec.elements) if fnmatch.fnmatchcase(name, pattern)]
    if not idx:
        raise ValueError(f"{field}: no element matches {pattern!r}; allowed: {', '.join(spec.elements)}")
    return idx


def _as_batch(field: str, value, batch: int, n: int | None) -> np.ndarray:
    """Broadcast a user value to ``(batch,)`` or ``(batch, n)``; ValueError on a bad shape."""
    arr = np.asarray(value, dtype=float)
    target = (batch,) if n is None else (batch, n)
    allowed = ["scalar", f"({batch},)"] if n is None else ["scalar", f"({n},)", f"({batch}, {n})", f"({batch}, 1)"]
    if arr.ndim == 0:
        return np.broadcast_to(arr, target).copy()
    if n is None:
        if arr.shape == (batch,):
            return arr.copy()
    else:
        if arr.shape == (n,):
            return np.broadcast_to(arr, target).copy()
        if arr.shape in ((batch, n), (batch, 1)):
            return np.broadcast_to(arr, target).copy()
    raise ValueError(f"{field}: array of shape {arr.shape} does not fit; allowed shapes: {', '.join(allowed)}")


def apply_changes(
    table_specs: Mapping[str, ParamSpec],
    values: dict[str, np.ndarray],
    changes: Mapping[str, object],
    *,
    mode: str,
) -> None:
    """Apply ``set``/``scale`` changes in place to batch-first ``values``.

    ``changes`` maps ``"group.field[.element-glob]"`` to a scalar, a per-element
    row, or per-walker values. Shapes are checked against the batch size.
    """
    if mode not in ("set", "scale"):
        raise ValueError(f"mode must be 'set' or 'scale', got {mode!r}")
    for key, value in changes.items():
        field, pattern = _split_key(key, table_specs)
        spec = table_specs[field]
        current = values[field]
        batch = current.shape[0]
        if pattern is None:
            n = None if spec.elements is None else len(spec.elements)
            new = _as_batch(key, value, batch, n)
            values[field] = new if mode == "set" else current * new
        else:
            idx = _element_indices(field, spec, pattern)
            col = _as_batch(key, value, batch, None)
            updated = current.copy()
            for i in idx:  # loop over named elements at build time only, never on the hot path
                updated[:, i] = col if mode == "set" else current[:, i] * col
            values[field] = updated
