"""Simulation results: labelled batch-first arrays with names and units, status, save/load.

``Results.data[field]`` has shape ``(B, T, ...)``; ``Results.FIELDS`` lists each field's
element names and unit. Per-walker ``status`` is 0 ok, 1 fell, 2 diverged, with the time
(s) at which it happened in ``status_time``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from .names import CONTACT_SPHERES, COORDINATES, COORDINATE_UNITS, MUSCLES, N_CONTACTS, N_MUSCLES, SIDES

STATUS_OK, STATUS_FELL, STATUS_DIVERGED = 0, 1, 2
STATUS_NAMES = {STATUS_OK: "ok", STATUS_FELL: "fell", STATUS_DIVERGED: "diverged"}

_coord_units = tuple(COORDINATE_UNITS[c] for c in COORDINATES)


def _fields():
    """name -> (element axes, unit, extractor(x, forces, out, blocks) -> batch-last array)."""
    return {
        "q": ((COORDINATES,), "m | rad", lambda x, forces, out, blocks: x[blocks["q"]]),
        "qdot": ((COORDINATES,), "m/s | rad/s", lambda x, forces, out, blocks: x[blocks["qdot"]]),
        "activation": ((MUSCLES,), "-", lambda x, forces, out, blocks: x[blocks["activation"]]),
        "excitation": ((MUSCLES,), "-", lambda x, forces, out, blocks: out.excitation),
        "fiber_length": ((MUSCLES,), "m", lambda x, forces, out, blocks: x[blocks["fiber_length"]]),
        "fiber_velocity": ((MUSCLES,), "m/s", lambda x, forces, out, blocks: forces.fiber_velocity),
        "muscle_force": ((MUSCLES,), "N", lambda x, forces, out, blocks: forces.force),
        "mtu_length": ((MUSCLES,), "m", lambda x, forces, out, blocks: forces.mtu_length),
        "muscle_moment": ((COORDINATES,), "N | N m", lambda x, forces, out, blocks: forces.muscle_moment),
        "limit_moment": ((COORDINATES,), "N | N m", lambda x, forces, out, blocks: forces.limit_moment),
        "contact_force": ((CONTACT_SPHERES, ("x", "y")), "N",
                          lambda x, forces, out, blocks:
                          np.stack([forces.ft, forces.fn], axis=-2).reshape(N_CONTACTS, 2, -1)),
        "grf": ((tuple(f"foot_{s}" for s in SIDES), ("x", "y")), "N",
                lambda x, forces, out, blocks: np.moveaxis(forces.grf, 0, 1)),
    }


FIELDS = _fields()


@dataclass(frozen=True)
class SaveEvery:
    """Save every ``every``-th step (1 = full rate). ``fields``: subset of ``Results.FIELDS`` or None for all."""

    every: int = 4
    fields: tuple[str, ...] | None = None


@dataclass(frozen=True)
class SaveSummary:
    """Keep per-walker running mean, min and max of ``fields`` over every step while the walker
    is alive (constant memory: no trajectories). Results get ``"<field>/mean"``, ``"/min"``,
    ``"/max"`` arrays of shape (B, ...) and ``"samples"`` (steps counted per walker)."""

    fields: tuple[str, ...] = ("q", "muscle_force", "grf")


@dataclass(frozen=True)
class SaveFinal:
    """Keep only the final state and status (for large sweeps); no trajectories."""


class _Recorder:
    def __init__(self, save, layout, batch, n_steps, dt, t0):
        self.summary = isinstance(save, SaveSummary)
        if self.summary:
            names = tuple(save.fields)
            unknown = [f for f in names if f not in FIELDS]
            if unknown:
                raise ValueError(f"SaveSummary fields {unknown} unknown; allowed: {', '.join(FIELDS)}")
            self.every = 0
            self.n_saved = 0
            self.layout, self.batch, self.dt, self.t0 = layout, batch, dt, t0
            self.fields, self.buffers, self.time, self.count = names, {}, np.empty(0), 0
            self.acc = {}
            self.samples = np.zeros(batch)
            return
        self.every = save.every if isinstance(save, SaveEvery) else 0
        names = (save.fields or tuple(FIELDS)) if isinstance(save, SaveEvery) else ()
        unknown = [f for f in names if f not in FIELDS]
        if unknown:
            raise ValueError(f"save fields {unknown} unknown; allowed: {', '.join(FIELDS)}")
        if self.every and self.every < 1:
            raise ValueError("SaveEvery.every must be >= 1")
        self.n_saved = (n_steps + self.every - 1) // self.every if self.every else 0
        self.layout, self.batch, self.dt, self.t0 = layout, batch, dt, t0
        self.fields = names
        self.buffers = {}
        for f in names:
            axes = FIELDS[f][0]
            shape = tuple(len(a) for a in axes)
            self.buffers[f] = np.empty((self.n_saved,) + shape + (batch,))
        self.time = np.empty(self.n_saved)
        self.count = 0

    def record(self, n, t, x, forces, out, alive):
        if self.summary:
            blocks = self.layout.blocks
            w = alive.astype(float)
            for f in self.fields:
                v = FIELDS[f][2](x, forces, out, blocks)
                if f not in self.acc:
                    self.acc[f] = [np.zeros_like(v), np.full_like(v, np.inf), np.full_like(v, -np.inf)]
                total, lo, hi = self.acc[f]
                total += v * w
                np.minimum(lo, np.where(alive, v, np.inf), out=lo)
                np.maximum(hi, np.where(alive, v, -np.inf), out=hi)
            self.samples += w
            return
        if not self.every or n % self.every:
            return
        i = self.count
        blocks = self.layout.blocks
        for f in self.fields:
            self.buffers[f][i] = FIELDS[f][2](x, forces, out, blocks)
        self.time[i] = t
        self.count += 1

    def finish(self, model, x, t_end, n_done, status, status_time, interrupted, wall_time):
        k = self.count
        data = {f: np.ascontiguousarray(np.moveaxis(buf[:k], -1, 0)) for f, buf in self.buffers.items()}
        if self.summary:
            n = np.maximum(self.samples, 1.0)
            for f, (total, lo, hi) in self.acc.items():
                data[f"{f}/mean"] = np.ascontiguousarray(np.moveaxis(total / n, -1, 0))
                data[f"{f}/min"] = np.ascontiguousarray(np.moveaxis(lo, -1, 0))
                data[f"{f}/max"] = np.ascontiguousarray(np.moveaxis(hi, -1, 0))
            data["samples"] = self.samples.copy()
        return Results(
            time=self.time[:k].copy(), data=data, status=status, status_time=status_time,
            final_state=np.ascontiguousarray(x.T), t_end=t_end, n_steps=n_done, dt=self.dt,
            layout_memory=self.layout.n_memory, interrupted=interrupted, wall_time=wall_time,
            params={key: v.copy() for key, v in model.params.values.items()},
        )


@dataclass
class Results:
    """Output of ``simulate``.

    time: (T,) s. data: {field: (B, T, ...)} (see ``FIELDS``). status: (B,) int8 codes,
    status_time: (B,) s (NaN while ok). final_state: (B, n_state) to resume from.
    params: the batch-first parameter table used. wall_time: s.
    """

    time: np.ndarray
    data: dict
    status: np.ndarray
    status_time: np.ndarray
    final_state: np.ndarray
    t_end: float
    n_steps: int
    dt: float
    layout_memory: int = 0
    interrupted: bool = False
    wall_time: float = 0.0
    params: dict = field(default_factory=dict)

    FIELDS = FIELDS

    @staticmethod
    def recorder(save, layout, batch, n_steps, dt, t0):
        return _Recorder(save, layout, batch, n_steps, dt, t0)

    @property
    def batch_size(self) -> int:
        return self.status.shape[0]

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.data[name]
        except KeyError:
            hint = "" if name not in FIELDS else " (not saved in this run: see the save policy's fields)"
            raise KeyError(f"no field {name!r} in these results{hint}; available: {', '.join(self.data)}") from None

    def select(self, index) -> "Results":
        """The results of a subset of walkers (``index``: int, slice or index array), same time axis.
        An int or a slice gives views of these arrays (no copy); an index array gives copies."""
        if isinstance(index, (int, np.integer)):
            index = slice(int(index), int(index) + 1 if int(index) != -1 else None)
        idx = index if isinstance(index, slice) else np.atleast_1d(np.arange(self.batch_size)[index])
        return Results(time=self.time, data={k: v[idx] for k, v in self.data.items()}, status=self.status[idx],
                       status_time=self.status_time[idx], final_state=self.final_state[idx], t_end=self.t_end,
                       n_steps=self.n_steps, dt=self.dt, layout_memory=self.layout_memory,
                       interrupted=self.interrupted, wall_time=self.wall_time,
                       params={k: v[idx] for k, v in self.params.items()})

    @classmethod
    def concatenate(cls, parts) -> "Results":
        """One batch of the walkers of several results on the same time axis (the inverse of ``select``)."""
        parts = list(parts)
        first = parts[0]
        if any(p.time.shape != first.time.shape or not np.array_equal(p.time, first.time) for p in parts):
            raise ValueError("Results.concatenate: the results must share their time axis")
        cat = lambda key, dicts: np.concatenate([d[key] for d in dicts])  # noqa: E731
        return cls(time=first.time, data={k: cat(k, [p.data for p in parts]) for k in first.data},
                   status=np.concatenate([p.status for p in parts]),
                   status_time=np.concatenate([p.status_time for p in parts]),
                   final_state=np.concatenate([p.final_state for p in parts]), t_end=first.t_end,
                   n_steps=first.n_steps, dt=first.dt, layout_memory=first.layout_memory,
                   interrupted=any(p.interrupted for p in parts), wall_time=first.wall_time,
                   params={k: cat(k, [p.params for p in parts]) for k in first.params})

    def coordinate(self, name: str) -> np.ndarray:
        """(B, T) trajectory of one coordinate (m or rad)."""
        return self.data["q"][:, :, COORDINATES.index(name)]

    def muscle(self, field_name: str, muscle: str) -> np.ndarray:
        """(B, T) trajectory of one muscle quantity (e.g. ``"muscle_force"``, ``"soleus_r"``)."""
        if muscle not in MUSCLES:
            raise ValueError(f"unknown muscle {muscle!r}; allowed: {', '.join(MUSCLES)}")
        return self.data[field_name][:, :, MUSCLES.index(muscle)]

    def status_text(self) -> list[str]:
        """One line per walker: 'ok' or 'fell at 1.234 s'."""
        out = []
        for code, tt in zip(self.status, self.status_time):
            out.append("ok" if code == STATUS_OK else f"{STATUS_NAMES[int(code)]} at {tt:.4f} s")
        return out

    def units(self, name: str) -> str:
        return FIELDS[name][1]

    def save(self, path) -> None:
        """Write an ``.npz`` with every array plus a JSON header of names and units."""
        def describe(f):
            base = f.split("/")[0]
            if base not in FIELDS:
                return {"axes": [], "unit": "-"}
            return {"axes": [list(a) for a in FIELDS[base][0]], "unit": FIELDS[base][1]}

        meta = {"fields": {f: describe(f) for f in self.data},
                "t_end": self.t_end, "n_steps": self.n_steps, "dt": self.dt, "layout_memory": self.layout_memory,
                "interrupted": self.interrupted, "wall_time": self.wall_time,
                "status_names": STATUS_NAMES, "coordinate_units": list(_coord_units), "n_muscles": N_MUSCLES}
        arrays = {f"data/{k}": v for k, v in self.data.items()}
        arrays.update({f"params/{k}": v for k, v in self.params.items()})
        np.savez_compressed(path, time=self.time, status=self.status, status_time=self.status_time,
                            final_state=self.final_state, meta=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load(cls, path) -> "Results":
        """Results written by ``save`` (an ``.npz``); FileNotFoundError / ValueError say what is wrong."""
        from pathlib import Path

        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"Results.load: no file {str(p)!r} (expected an .npz written by Results.save)")
        try:
            z = np.load(p, allow_pickle=False)
        except Exception as e:  # not an npz at all
            raise ValueError(f"Results.load: {str(p)!r} is not a results file written by Results.save ({e})") from None
        if not isinstance(z, np.lib.npyio.NpzFile) or "meta" not in z.files:
            raise ValueError(f"Results.load: {str(p)!r} is not a results file written by Results.save "
                             f"(no 'meta' entry)")
        with z:
            meta = json.loads(str(z["meta"]))
            data = {k[5:]: z[k] for k in z.files if k.startswith("data/")}
            params = {k[7:]: z[k] for k in z.files if k.startswith("params/")}
            return cls(time=z["time"], data=data, status=z["status"], status_time=z["status_time"],
                       final_state=z["final_state"], t_end=meta["t_end"], n_steps=meta["n_steps"], dt=meta["dt"],
                       layout_memory=meta["layout_memory"], interrupted=meta["interrupted"],
                       wall_time=meta["wall_time"], params=params)
