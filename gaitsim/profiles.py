"""Feed-forward activation profiles over the gait cycle, their fit from a run, and reflex + profile.

A profile controller gives each muscle a periodic excitation

    u_m(phi) = a0_m + sum_k [a_km cos(2 pi k phi) + b_km sin(2 pi k phi)],  clipped to [0.01, 1],

with phi in [0, 1) the gait phase of the muscle's leg: ``phi = ((t - t_start) / stride_time +
offset) mod 1``, the left leg half a cycle after the right; trunk muscles follow the right leg.
It is purely feed-forward (a clock), the classical alternative to reflex control. Profiles are
fitted by least squares to cycle-normalized excitations of a previous run (``fit_profiles``),
and ``CombinedController`` adds a profile to a reflex controller's output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import analysis
from .control import MIN_EXCITATION, ControlOutput, bind_step
from .model import Model
from .names import LEG_MUSCLES, MUSCLES, N_MUSCLES

#: per muscle, the leg whose phase it follows (0 right, 1 left; trunk muscles follow the right leg)
MUSCLE_LEG = np.array([1 if m.endswith("_l") else 0 for m in MUSCLES])


def fourier_basis(phi: np.ndarray, harmonics: int) -> np.ndarray:
    """(1 + 2K, ...) rows: 1, cos(2 pi k phi), sin(2 pi k phi) for k = 1..K."""
    phi = np.asarray(phi, dtype=float)
    rows = [np.ones_like(phi)]
    for k in range(1, harmonics + 1):
        rows += [np.cos(2 * np.pi * k * phi), np.sin(2 * np.pi * k * phi)]
    return np.stack(rows)


@dataclass
class ProfileController:
    """Feed-forward Fourier activation profiles (see module docstring).

    coefficients: (n_muscles, 1 + 2K) or (B, n_muscles, 1 + 2K). stride_time: s (scalar or (B,)).
    offset: phase of the right leg at ``t_start`` (0 = right heel strike).
    """

    coefficients: np.ndarray
    stride_time: object = 1.1
    offset: object = 0.0
    t_start: float = 0.0
    memory_size: int = 0
    _c: np.ndarray | None = field(default=None, repr=False)

    @property
    def harmonics(self) -> int:
        return (np.shape(self.coefficients)[-1] - 1) // 2

    def initial_memory(self, model: Model, q, qdot) -> np.ndarray:
        b = model.batch_size
        c = np.asarray(self.coefficients, dtype=float)
        if c.ndim not in (2, 3) or c.shape[-2] != N_MUSCLES or c.shape[-1] % 2 != 1:
            raise ValueError(f"ProfileController.coefficients: expected ({N_MUSCLES}, 1 + 2K) or "
                             f"({b}, {N_MUSCLES}, 1 + 2K), got {c.shape}")
        if c.ndim == 3 and c.shape[0] != b:
            raise ValueError(f"ProfileController.coefficients: batch {c.shape[0]} does not match {b}")
        st = np.broadcast_to(np.asarray(self.stride_time, dtype=float), (b,))
        if np.any(~np.isfinite(st)) or np.any(st <= 0):
            raise ValueError("ProfileController.stride_time must be > 0 (s)")
        self._c = np.broadcast_to(c, (b,) + c.shape[-2:]).transpose(1, 2, 0).copy()  # (n_mus, 1+2K, B)
        self._T = st.copy()
        self._off = np.broadcast_to(np.asarray(self.offset, dtype=float), (b,)).copy()
        return np.zeros((0, b))

    def excitation(self, t: float) -> np.ndarray:
        """(n_muscles, B) profile excitation at time t (s), clipped to [0.01, 1]."""
        phi_r = ((t - self.t_start) / self._T + self._off) % 1.0  # (B,)
        phi = np.stack([phi_r, (phi_r + 0.5) % 1.0])[MUSCLE_LEG]  # (n_mus, B)
        basis = fourier_basis(phi, self.harmonics)  # (1+2K, n_mus, B)
        u = (self._c * basis.transpose(1, 0, 2)).sum(axis=1)  # sum over 1+2K terms per muscle
        return np.clip(u, MIN_EXCITATION, 1.0)

    def __call__(self, t, sensors, memory):
        return ControlOutput(self.excitation(t), memory=memory)


def fit_profiles(time, excitation, fy_right, body_weight, harmonics: int = 4):
    """Least-squares Fourier profiles from a run of one walker.

    time: (T,) s; excitation: (T, n_muscles); fy_right: (T,) right vertical GRF (N).
    Right-leg and trunk muscles are normalized to right strides, left-leg muscles to the same
    strides shifted by half a cycle. Returns (coefficients (n_muscles, 1 + 2K), mean stride time s).
    """
    ev = analysis.gait_events(time, fy_right, body_weight)
    s = ev.strikes
    if s.size < 2:
        raise ValueError("fit_profiles needs at least two right heel strikes in the run")
    cyc = analysis.cycles(time, excitation, s)  # (n_cycles, 101, n_mus)
    mean = cyc.mean(axis=0)  # (101, n_mus)
    phi = np.linspace(0.0, 1.0, analysis.CYCLE_POINTS)
    A = fourier_basis(phi, harmonics).T  # (101, 1+2K)
    coef = np.empty((N_MUSCLES, A.shape[1]))
    for m in range(N_MUSCLES):  # profile fit per muscle, off the hot path
        target = mean[:, m]
        if MUSCLE_LEG[m] == 1:  # left muscles: express in the left leg's own phase
            target = np.interp((phi + 0.5) % 1.0, phi, target)
        coef[m] = np.linalg.lstsq(A, target, rcond=None)[0]
    return coef, float(np.diff(s).mean())


@dataclass
class CombinedController:
    """Reflex + feed-forward: excitations of ``reflex`` and ``profile`` added (then clipped).

    The profile's pre-stimulation floor is removed before adding (its 0.01 minimum would
    otherwise double the reflex's floor).
    """

    reflex: object
    profile: ProfileController
    memory_size: int = 0

    def bind_step(self, dt: float) -> None:
        """Hand the integration step (s) on to the reflex controller."""
        bind_step(self.reflex, dt)

    def initial_memory(self, model: Model, q, qdot) -> np.ndarray:
        mem = self.reflex.initial_memory(model, q, qdot)
        self.profile.initial_memory(model, q, qdot)
        self.memory_size = mem.shape[0]
        return mem

    def __call__(self, t, sensors, memory):
        out = self.reflex(t, sensors, memory)
        extra = self.profile.excitation(t) - MIN_EXCITATION
        return ControlOutput(np.clip(out.excitation + extra, MIN_EXCITATION, 1.0), out.torque, out.damping,
                             out.memory)


__all__ = ["ProfileController", "CombinedController", "fit_profiles", "fourier_basis", "LEG_MUSCLES"]
