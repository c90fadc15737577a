"""State vector layout and initial states.

The full state of one walker is a flat float vector with named blocks:

==================  ============  =====================================================
block               size          content (unit)
==================  ============  =====================================================
``q``               10            OpenSim coordinates (m, rad)
``qdot``            10            their rates (m/s, rad/s)
``activation``      n_muscles     muscle activation (-)
``fiber_length``    n_muscles     contractile-element length (m)
``anchor``          4             stiction anchor x of each contact sphere (m)
``mode``            4             contact mode: 0 air, 1 stick, 2 slip
``memory``          n_memory      controller memory (e.g. neural delay lines)
==================  ============  =====================================================

Public arrays are batch-first ``(B, n_state)``; the integrator works on the transpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import muscles as mus
from ._fixed import seq_sum
from . import skeleton
from .model import Model, path_geometry
from .names import COORDINATES, MUSCLES, N_CONTACTS, N_COORDINATES, N_MUSCLES, coordinate_index

#: a generalized speed above this (m/s or rad/s) marks a walker's state as diverged
MAX_SPEED = 1e3

@lru_cache(maxsize=64)
def _blocks(n_memory: int) -> dict[str, slice]:
    sizes = [("q", N_COORDINATES), ("qdot", N_COORDINATES), ("activation", N_MUSCLES),
             ("fiber_length", N_MUSCLES), ("anchor", N_CONTACTS), ("mode", N_CONTACTS), ("memory", n_memory)]
    out, start = {}, 0
    for name, n in sizes:
        out[name] = slice(start, start + n)
        start += n
    return out


@dataclass(frozen=True)
class StateLayout:
    """Slices of the named blocks in a state vector with ``n_memory`` controller slots."""

    n_memory: int = 0

    @property
    def blocks(self) -> dict[str, slice]:
        """{block name: slice}; shared between calls (read it, do not modify it)."""
        return _blocks(self.n_memory)

    @property
    def size(self) -> int:
        return self.blocks["memory"].stop

    def names(self) -> list[str]:
        """One stable name per state entry (OpenSim-like paths)."""
        return ([f"{c}/value" for c in COORDINATES] + [f"{c}/speed" for c in COORDINATES]
                + [f"{m}/activation" for m in MUSCLES] + [f"{m}/fiber_length" for m in MUSCLES]
                + [f"contact/{i}/anchor" for i in range(N_CONTACTS)] + [f"contact/{i}/mode" for i in range(N_CONTACTS)]
                + [f"controller/memory/{i}" for i in range(self.n_memory)])


def _pose_array(model: Model, pose, default: np.ndarray, field: str) -> np.ndarray:
    """(B, 10) from None, a {coordinate: value} dict, a (10,) or a (B, 10) array."""
    b = model.batch_size
    out = np.broadcast_to(default, (b, N_COORDINATES)).copy()
    if pose is None:
        return out
    if isinstance(pose, dict):
        for name, val in pose.items():
            v = np.asarray(val, dtype=float)
            if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != b):
                raise ValueError(f"{field}[{name!r}]: expected a scalar or ({b},), got shape {v.shape}")
            out[:, coordinate_index(name)] = v
    else:
        arr = np.asarray(pose, dtype=float)
        if arr.shape not in ((N_COORDINATES,), (b, N_COORDINATES)):
            raise ValueError(f"{field}: expected shape ({N_COORDINATES},) or ({b}, {N_COORDINATES}), got {arr.shape}")
        out[:] = arr
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{field}: values must be finite")
    return out


def sphere_kinematics(model: Model, q_rel: np.ndarray, qdot_rel: np.ndarray | None = None):
    """Contact-sphere centre positions and velocities, each (2 xy, 2 legs, 2 spheres, B), for
    batch-last coordinates q_rel (10, B) and rates qdot_rel (10, B; zero if omitted)."""
    psi = skeleton.abs_from_rel(q_rel)
    psidot = np.zeros_like(psi) if qdot_rel is None else skeleton.abs_from_rel(qdot_rel)
    pos, vel, _ = skeleton.foot_point_kinematics(model.skeleton, psi, psidot, np.cos(psi[2:]), np.sin(psi[2:]),
                                                 model.contact.sphere_x, model.contact.sphere_y)
    return pos, vel


def lowest_contact_height(model: Model, q: np.ndarray) -> np.ndarray:
    """(B,) height (m) of the lowest contact-sphere bottom for batch-first poses q (B, 10)."""
    pos, _ = sphere_kinematics(model, q.T)
    bottom = pos[1] - model.contact.radius  # (2, 2, B)
    return bottom.reshape(-1, bottom.shape[-1]).min(axis=0)


def mtu_lengths(model: Model, q_rel: np.ndarray) -> np.ndarray:
    """Musculotendon path lengths (n_muscles, B) for batch-last coordinates (10, B)."""
    return path_geometry(model.paths, q_rel)[0]


def initial_state(
    model: Model,
    q=None,
    qdot=None,
    *,
    activation=0.01,
    height_above_ground: float | None = None,
    memory: np.ndarray | None = None,
) -> np.ndarray:
    """Batch-first initial state (B, n_state).

    q, qdot: None (upright zero pose, at rest), a {coordinate name: value} dict, (10,) or (B, 10).
    height_above_ground: if given (m), ``pelvis_ty`` is set so that the lowest contact sphere is
    that far above the ground (negative = pre-penetration). Fibre lengths start at static
    equilibrium for the given activation (scalar, (n_muscles,) or (B, n_muscles), in [0.01, 1]).
    memory: (B, n_memory) controller memory (default: none).
    """
    b = model.batch_size
    q0 = _pose_array(model, q, np.zeros(N_COORDINATES), "q")
    if q is None or (isinstance(q, dict) and "pelvis_ty" not in q):
        q0[:, 1] = 1.0
    qd0 = _pose_array(model, qdot, np.zeros(N_COORDINATES), "qdot")
    if height_above_ground is not None:
        q0[:, 1] += float(height_above_ground) - lowest_contact_height(model, q0)
    a = np.asarray(activation, dtype=float)
    if a.shape not in ((), (N_MUSCLES,), (b, N_MUSCLES)):
        raise ValueError(f"activation: expected a scalar, ({N_MUSCLES},) or ({b}, {N_MUSCLES}), got {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < 0.01) or np.any(a > 1.0):
        raise ValueError("activation: values must lie in [0.01, 1]")
    act = np.broadcast_to(a, (b, N_MUSCLES)).T.copy()
    lce = mus.equilibrium_fiber_length(mtu_lengths(model, q0.T), act, model.muscles)
    n_mem = 0 if memory is None else np.asarray(memory).shape[1]
    layout = StateLayout(n_mem)
    x = np.zeros((b, layout.size))
    blocks = layout.blocks
    x[:, blocks["q"]] = q0
    x[:, blocks["qdot"]] = qd0
    x[:, blocks["activation"]] = act.T
    x[:, blocks["fiber_length"]] = lce.T
    pos, _ = sphere_kinematics(model, q0.T)
    x[:, blocks["anchor"]] = pos[0].reshape(N_CONTACTS, b).T
    x[:, blocks["mode"]] = 0.0
    if memory is not None:
        x[:, blocks["memory"]] = memory
    return x


def center_of_mass(model: Model, q: np.ndarray) -> np.ndarray:
    """Whole-body centre of mass (B, 2) in m for batch-first poses q (B, 10)."""
    sk = model.skeleton
    psi = skeleton.abs_from_rel(q.T)
    cs, sn = np.cos(psi[2:]), np.sin(psi[2:])
    x = psi[0] + seq_sum(sk.w[0] * cs - sk.w[1] * sn) / sk.mass_total
    y = psi[1] + seq_sum(sk.w[0] * sn + sk.w[1] * cs) / sk.mass_total
    return np.stack([x, y], axis=1)


def _level_foot_angle(model: Model) -> np.ndarray:
    """(B,) absolute foot angle (rad) at which the heel and ball spheres' bottoms are level."""
    contact = model.contact
    sx, sy, rad = contact.sphere_x[0], contact.sphere_y[0], contact.radius[0]  # right foot: (2 spheres, B)
    lo, hi = np.full(model.batch_size, -0.5), np.full(model.batch_size, 0.5)

    def ball_minus_heel(phi):  # increases with toes-up rotation
        c, s = np.cos(phi), np.sin(phi)
        bottom = s * sx + c * sy - rad
        return bottom[1] - bottom[0]

    for _ in range(50):  # vectorized bisection over walkers
        mid = 0.5 * (lo + hi)
        up = ball_minus_heel(mid) > 0.0
        hi = np.where(up, mid, hi)
        lo = np.where(up, lo, mid)
    return 0.5 * (lo + hi)


def standing_pose(model: Model, height_above_ground: float = 0.0) -> np.ndarray:
    """Batch-first (B, 10) upright pose: feet level on heel and ball, CoM above mid-foot.

    The feet are rotated so that the heel and ball spheres touch the ground together; the
    body above the ankles then leans as one piece (pelvis_tilt = -lean, ankle_angle adjusted)
    until the centre of mass lies halfway between the heel and ball sphere centres (per-walker
    bisection). ``pelvis_ty`` puts the spheres ``height_above_ground`` (m) above the ground.
    """
    b = model.batch_size
    foot = _level_foot_angle(model)
    lo, hi = np.full(b, -0.5), np.full(b, 0.5)

    def pose(lean):
        q = np.zeros((b, N_COORDINATES))
        q[:, 1] = 1.0
        q[:, COORDINATES.index("pelvis_tilt")] = -lean
        q[:, COORDINATES.index("ankle_angle_r")] = lean + foot
        q[:, COORDINATES.index("ankle_angle_l")] = lean + foot
        return q

    def offset(lean):  # CoM x minus mid-foot x (m); increases with forward lean
        q = pose(lean)
        pos, _ = sphere_kinematics(model, q.T)
        mid = pos[0, 0].mean(axis=0)  # right foot, mean of heel and ball x
        return center_of_mass(model, q)[:, 0] - mid

    for _ in range(50):  # vectorized bisection over walkers
        mid = 0.5 * (lo + hi)
        ahead = offset(mid) > 0.0
        hi = np.where(ahead, mid, hi)
        lo = np.where(ahead, lo, mid)
    q = pose(0.5 * (lo + hi))
    q[:, 1] += height_above_ground - lowest_contact_height(model, q)
    return q
