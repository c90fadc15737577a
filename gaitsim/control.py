"""Controller interface, simple controllers, and neural delay lines.

A controller is called once per integration step with the time, the sensed
``ForceState`` of the current state and its memory (batch-last, part of the
integrated state so that a batch can be paused and resumed). It returns a
``ControlOutput``: muscle excitations, optional generalized forces from test
actuators (with their damping, treated implicitly), and its new memory.

Before it makes its memory, a controller that counts time in integration steps (delay lines)
receives the solver's step through ``bind_step(dt)`` (``simulate`` calls the module function
``bind_step``, which asks wrappers to hand the step on to the controller they wrap).

The walking controllers (reflexes, activation profiles) plug into the same
interface; their neural delays use ``DelayLine``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .joint_limits import LIMITED
from .model import Model
from .names import MUSCLES, N_COORDINATES, N_MUSCLES, coordinate_index

from .muscles import MIN_EXCITATION  # noqa: E402  (the stimulation floor; re-exported here)


@dataclass
class ControlOutput:
    """Controller output (batch-last).

    excitation: (n_muscles, B) in [0.01, 1].
    torque: (10, B) generalized forces of test actuators (N, N m) or None.
    damping: (10, B) >= 0, -d(torque)/d(qdot) of those actuators (N s/m, N m s/rad) or None.
    memory: (n_memory, B) new controller memory.
    """

    excitation: np.ndarray
    torque: np.ndarray | None = None
    damping: np.ndarray | None = None
    memory: np.ndarray | None = None


class Controller(Protocol):
    """What ``simulate`` calls; ``bind_step(dt)`` is optional (controllers that count steps, and
    wrappers, define it; see ``bind_step``)."""

    memory_size: int

    def initial_memory(self, model: Model, q: np.ndarray, qdot: np.ndarray) -> np.ndarray:
        """(n_memory, B) memory at t = 0 from batch-last coordinates and rates."""

    def __call__(self, t: float, sensors, memory: np.ndarray) -> ControlOutput: ...


def bind_step(controller, dt: float) -> None:
    """Hand the integration step ``dt`` (s) to ``controller``: ``simulate`` does so with the
    solver's step before it asks for the initial memory. Controllers that count time in steps
    (``reflex.ReflexController``'s delay lines) and wrappers (which hand it on to the controller
    they wrap) define ``bind_step(dt)``; for the others this does nothing."""
    method = getattr(controller, "bind_step", None)
    if method is not None:
        method(dt)


def _excitation_rows(level, batch: int, name: str) -> np.ndarray:
    a = np.asarray(level, dtype=float)
    if a.shape not in ((), (N_MUSCLES,), (batch, N_MUSCLES)):
        raise ValueError(f"{name}: expected a scalar, ({N_MUSCLES},) or ({batch}, {N_MUSCLES}), got {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < MIN_EXCITATION) or np.any(a > 1.0):
        raise ValueError(f"{name}: values must lie in [{MIN_EXCITATION}, 1]")
    return np.ascontiguousarray(np.broadcast_to(a, (batch, N_MUSCLES)).T)


@dataclass
class ConstantExcitation:
    """Every muscle at a constant excitation (scalar, per muscle, or per walker and muscle).

    ``level`` may also be a {muscle name: value} dict (others stay at 0.01).
    """

    level: object = MIN_EXCITATION
    memory_size: int = 0
    _rows: np.ndarray | None = field(default=None, repr=False)

    def initial_memory(self, model: Model, q, qdot) -> np.ndarray:
        level = self.level
        if isinstance(level, dict):
            row = np.full(N_MUSCLES, MIN_EXCITATION)
            for name, v in level.items():
                if name not in MUSCLES:
                    raise ValueError(f"unknown muscle {name!r}; allowed: {', '.join(MUSCLES)}")
                row[MUSCLES.index(name)] = v
            level = row
        self._rows = _excitation_rows(level, model.batch_size, "excitation")
        return np.zeros((0, model.batch_size))

    def __call__(self, t, sensors, memory):
        return ControlOutput(self._rows, memory=memory)


@dataclass
class PoseHold:
    """Stiff PD test actuators on the joints (not the pelvis), plus constant muscle excitation.

    target: {coordinate: angle (rad)} for joints to hold (default: the initial pose). The
    target is kept in the controller memory, so a resumed run holds the same pose.
    stiffness (N m/rad), damping (N m s/rad): per-joint gains; the damping is integrated
    implicitly, so large values are stable. Used to check standing equilibrium.
    """

    target: dict | None = None
    stiffness: float = 3000.0
    damping: float = 300.0
    excitation: object = MIN_EXCITATION
    memory_size: int = N_COORDINATES

    def initial_memory(self, model: Model, q, qdot) -> np.ndarray:
        b = model.batch_size
        target = q.copy()
        if self.target:
            for name, v in self.target.items():
                if name not in LIMITED:
                    raise ValueError(f"PoseHold.target: {name!r} is not a joint; allowed: {', '.join(LIMITED)}")
                target[coordinate_index(name)] = v
        self._gain = np.zeros((N_COORDINATES, b))
        self._gain[3:] = self.stiffness
        self._damp = np.zeros((N_COORDINATES, b))
        self._damp[3:] = self.damping
        self._rows = _excitation_rows(self.excitation, b, "PoseHold.excitation")
        return target

    def __call__(self, t, sensors, memory):
        torque = self._gain * (memory - sensors.q) - self._damp * sensors.qdot
        return ControlOutput(self._rows, torque=torque, damping=self._damp, memory=memory)


class DelayLine:
    """Ring buffers delaying sensory signals by whole integration steps, stored in controller memory.

    Each signal ``i`` has its own delay ``delays[i]`` (s), rounded to ``round(delay/dt)`` steps
    (at least 1). The memory block is ``(n_slots * n_signals, B)`` and is updated in place (no
    per-step copy of the buffer). The write slot comes from the integration step index, which is
    the same for every walker, so walkers never disagree about where the ring starts.
    ``push`` returns the values written ``steps`` calls ago (the initial values until then).
    Typical delays (Geyer & Herr 2010): 5 ms hip and trunk, 10 ms knee, 20 ms ankle.
    """

    def __init__(self, delays, dt: float):
        d = np.asarray(delays, dtype=float)
        if d.ndim != 1 or np.any(~np.isfinite(d)) or np.any(d < 0):
            raise ValueError("DelayLine.delays: a 1-D array of non-negative delays (s)")
        if not dt > 0:
            raise ValueError("DelayLine.dt must be > 0 (s)")
        self.dt = dt
        self.steps = np.maximum(np.rint(d / dt).astype(int), 1)
        self.n_signals = d.size
        self.n_slots = int(self.steps.max()) + 1
        self.size = self.n_slots * self.n_signals
        self._sig = np.arange(self.n_signals)

    def initial_memory(self, values: np.ndarray) -> np.ndarray:
        """Memory filled with ``values`` (n_signals, B) in every slot."""
        return np.tile(values, (self.n_slots, 1))

    def push(self, memory: np.ndarray, values: np.ndarray, step: int) -> np.ndarray:
        """Write ``values`` (n_signals, B) at integration step ``step``; return the values of step
        ``step - steps[i]`` for each signal (n_signals, B). ``memory`` is updated in place."""
        buf = memory.reshape(self.n_slots, self.n_signals, -1)
        delayed = buf[(step - self.steps) % self.n_slots, self._sig]
        buf[step % self.n_slots] = values
        return delayed

    def step_index(self, t: float) -> int:
        """Integration step index of time ``t`` (s)."""
        return int(round(t / self.dt))


__all__ = ["ControlOutput", "Controller", "ConstantExcitation", "PoseHold", "DelayLine", "TrunkPush", "bind_step"]


@dataclass
class TrunkPush:
    """Wrap a controller and push the trunk: a horizontal force at the torso's centre of mass.

    force: N (scalar or (B,), positive forward); start: s (scalar or (B,)); duration: s.
    The push enters as generalized forces (``J^T F`` of the torso CoM), so it needs no change of
    the dynamics. Used for the robustness check of the walking issue.
    """

    controller: object
    force: object = 100.0
    start: object = 1.0
    duration: float = 0.1
    memory_size: int = 0

    def bind_step(self, dt: float) -> None:
        """Hand the integration step (s) on to the wrapped controller."""
        bind_step(self.controller, dt)

    def initial_memory(self, model: Model, q, qdot) -> np.ndarray:
        b = model.batch_size
        self._f = np.broadcast_to(np.asarray(self.force, dtype=float), (b,)).copy()
        self._t0 = np.broadcast_to(np.asarray(self.start, dtype=float), (b,)).copy()
        if not (np.all(np.isfinite(self._f)) and np.all(np.isfinite(self._t0)) and self.duration > 0):
            raise ValueError("TrunkPush: force (N) and start (s) must be finite, duration > 0 (s)")
        sk = model.skeleton
        self._lumbar = sk.joint[:, 0]  # (2, B) lumbar joint in the pelvis frame
        self._com = np.stack([model.params["body.segment_com_x"][:, 1], model.params["body.segment_com_y"][:, 1]])
        mem = self.controller.initial_memory(model, q, qdot)
        self.memory_size = mem.shape[0]
        return mem

    def generalized_forces(self, t: float, psi: np.ndarray) -> np.ndarray:
        """(10, B) generalized forces on the OpenSim coordinates of the push at time t."""
        eps = 1e-9  # s: step times carry rounding; the window is [start, start + duration)
        on = (t >= self._t0 - eps) & (t < self._t0 + self.duration - eps)
        fx = np.where(on, self._f, 0.0)
        # torso CoM = pelvis origin + R(theta_p) lumbar + R(theta_t) com; d/dtheta of R o = (-(R o)_y, (R o)_x)
        cos_pelvis, sin_pelvis = np.cos(psi[2]), np.sin(psi[2])
        cos_torso, sin_torso = np.cos(psi[3]), np.sin(psi[3])
        ly = sin_pelvis * self._lumbar[0] + cos_pelvis * self._lumbar[1]
        cy = sin_torso * self._com[0] + cos_torso * self._com[1]
        q_abs = np.zeros_like(psi)
        q_abs[0] = fx
        q_abs[2] = -ly * fx
        q_abs[3] = -cy * fx
        from .skeleton import T_ABS_FROM_REL

        return T_ABS_FROM_REL.T @ q_abs  # tau = T^T Q (virtual work)

    def __call__(self, t, sensors, memory):
        out = self.controller(t, sensors, memory)
        push = self.generalized_forces(t, sensors.psi)
        torque = push if out.torque is None else out.torque + push
        return ControlOutput(out.excitation, torque, out.damping, out.memory)


@dataclass
class ExcitationOffset:
    """Wrap a controller and add constant excitation offsets to some muscles (raised resting tone).

    offset: {muscle name: scalar or (B,) array} added to the wrapped controller's excitation, the
    sum clipped to [MIN_EXCITATION, 1]. The offsets are gathered once into an (n_muscles, B) array
    at ``initial_memory``; memory and everything else (the integration step too: ``bind_step``)
    are the wrapped controller's. Used by ``impairments`` (``psoas_tone``).
    """

    controller: object
    offset: dict = field(default_factory=dict)
    memory_size: int = 0

    def bind_step(self, dt: float) -> None:
        """Hand the integration step (s) on to the wrapped controller."""
        bind_step(self.controller, dt)

    def initial_memory(self, model: Model, q, qdot) -> np.ndarray:
        b = model.batch_size
        rows = np.zeros((N_MUSCLES, b))
        for name, v in self.offset.items():
            if name not in MUSCLES:
                raise ValueError(f"ExcitationOffset.offset: unknown muscle {name!r}; allowed: {', '.join(MUSCLES)}")
            a = np.asarray(v, dtype=float)
            if a.shape not in ((), (b,)) or not np.all(np.isfinite(a)):
                raise ValueError(f"ExcitationOffset.offset[{name!r}]: expected a finite scalar or ({b},), got {a.shape}")
            rows[MUSCLES.index(name)] += a
        self._rows = rows
        mem = self.controller.initial_memory(model, q, qdot)
        self.memory_size = mem.shape[0]
        return mem

    def __call__(self, t, sensors, memory):
        out = self.controller(t, sensors, memory)
        exc = np.clip(out.excitation + self._rows, MIN_EXCITATION, 1.0)
        return ControlOutput(exc, out.torque, out.damping, out.memory)
