"""Batch-first fixed-step integration with per-walker status and save policies.

Scheme: ``SemiImplicitEuler`` (symplectic Euler with implicit damping), per step of size dt:

1. evaluate all forces at (q_n, qdot_n, a_n, l_n) and call the controller;
2. ``(M + theta dt D) qddot = f`` with D the contact, joint-limit and actuator damping
   (linearly implicit: the damping forces are taken at the speeds ``qdot_n + theta dt qddot``;
   ``theta`` is ``damping_theta``, 1 by default: backward Euler, the stiff damping cannot
   destabilize the step); with ``normal_contact="active_set"`` the normal contact spheres that
   push are decided with those speeds (``dynamics.normal_contact_active_set``; a second solve
   where needed);
3. ``qdot_{n+1} = qdot_n + dt qddot``; ``q_{n+1} = q_n + dt qdot_{n+1}``;
4. activation: exact exponential step of ``da/dt = (u - a)/tau`` for constant u;
5. fibre length: linearly implicit ``l_{n+1} = l_n + dt v / (1 - dt min(dv/dl, 0))``
   (the CE is stiff at low activation: its time constant falls to a few microseconds); with ``fiber_iterations = k > 0``
   this is the first guess of a backward-Euler step ``l_{n+1} = l_n + dt v(l_{n+1}, a_{n+1},
   l_mtu(q_{n+1}))`` solved by k Newton iterations (see ``SemiImplicitEuler``);
6. contact friction state as returned by step 1; the controller updates its memory (a
   separate array, e.g. its delay lines) in place.

Multirate option (``mechanics_substeps = n > 1``): steps 2-3 and the contact state run n times
with the sub-step dt/n; each sub-step after the first re-evaluates the skeleton, contact and joint
limits at its own state with the muscles' generalized forces held from the step's start (and the
controller's output: its actuator torques continued along their damping, ``_continued``);
activation and fibres (steps 4-5, with q_{n+1} from the last sub-step) and the controller run
once per dt.

Walkers whose state becomes non-finite or absurdly fast (any |qdot| > ``MAX_SPEED``,
"diverged") or whose pelvis drops below
``fall_height`` ("fell") are frozen from that step on, with the reason and time recorded;
the rest of the batch goes on. Nothing in a step mixes walkers, so a batch of N gives the
same numbers as N single runs.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable, NamedTuple

import numpy as np

from . import muscles as mus
from .control import MIN_EXCITATION, ConstantExcitation, Controller
from .dynamics import accelerations, accelerations_contact_active_set, evaluate_forces, normal_contact_active_set
from .model import Model, path_geometry
from .names import N_COORDINATES
from .results import STATUS_DIVERGED, STATUS_FELL, STATUS_OK, Results, SaveEvery, SaveFinal, SaveSummary
from .state import MAX_SPEED, StateLayout

DEFAULT_DT = 2.5e-4  # s; see the walker-core note (convergence and stability measurements)
#: upper bound of ``SemiImplicitEuler.fiber_iterations``
MAX_FIBER_ITERATIONS = 20
#: upper bound of ``SemiImplicitEuler.mechanics_substeps``
MAX_MECHANICS_SUBSTEPS = 16
#: allowed range of ``SemiImplicitEuler.damping_theta``: trapezoidal (0.5) to backward Euler (1)
DAMPING_THETA_RANGE = (0.5, 1.0)
#: the ``SemiImplicitEuler`` fields that change its numbers (besides the backend): what a tuned
#: solution records, the command-line flags set and a run's summary reports
SOLVER_OPTIONS = ("fiber_iterations", "normal_contact", "mechanics_substeps", "damping_theta")
#: ``SemiImplicitEuler.normal_contact``: the clip of the normal contact law taken at the start of
#: the step ("explicit") or decided with the end-of-step velocity ("active_set")
NORMAL_CONTACT = ("explicit", "active_set")


class _Backend(NamedTuple):
    """A backend's step functions; ``update``, ``fiber_newton`` and ``substeps`` are None for numpy
    (the step does those in numpy itself)."""

    forces: Callable
    solve: Callable
    active_set: Callable
    update: Callable | None
    fiber_newton: Callable | None
    substeps: Callable | None
    health: Callable


@lru_cache(maxsize=None)
def _backend_functions(backend: str) -> _Backend:
    """The step functions of a backend, resolved once."""
    if backend == "numba":
        from . import compiled

        return _Backend(compiled.evaluate_forces, compiled.accelerations, compiled.normal_contact_active_set,
                        compiled.update_state, compiled.fiber_newton, compiled.mechanics_substeps,
                        compiled.walker_health)
    return _Backend(evaluate_forces, accelerations, normal_contact_active_set, None, None, None, walker_health)


def walker_health(new: np.ndarray, qdot_rows: slice, fall_height: float):
    """(finite, bad), each (B,) bool, of the new physical states ``new`` (n_phys, B): ``finite``
    when every entry is finite and every speed (rows ``qdot_rows``) is below ``MAX_SPEED`` in
    magnitude; ``bad`` when not finite or the pelvis height (row 1, m) is below ``fall_height``.

    Finiteness is read from the column sum (finite iff every entry is, barring an overflow to
    inf, itself a divergence): one reduction instead of an isfinite pass and an all().
    """
    qd_new = new[qdot_rows]
    finite = np.isfinite(new.sum(axis=0)) & (qd_new.max(axis=0) < MAX_SPEED) & (qd_new.min(axis=0) > -MAX_SPEED)
    return finite, ~finite | (new[1] < fall_height)


@dataclass(frozen=True)
class SemiImplicitEuler:
    """Symplectic Euler with linearly implicit damping and fibre update (first order).

    backend: ``"auto"`` (default: ``"numba"`` when numba imports, else ``"numpy"``; the field then
    holds the backend chosen), ``"numpy"`` (the reference) or ``"numba"`` (``gaitsim.compiled``:
    the force evaluation and the equations of motion as compiled kernels).
    fiber_iterations: Newton iterations of a backward-Euler fibre update (default 3; 0 keeps a
    single linearly implicit step). The linearly implicit step freezes the path length and the
    activation over the step; where the CE time constant is far below dt (about 2-80 us at low
    activation) it converges only once dt is below about 30 us (stiff order reduction). Each
    iteration costs one CE evaluation; ``docs/numerics.md`` has the measurements.
    normal_contact: ``"active_set"`` (default): the clip of the normal contact law at zero force
    is decided with the end-of-step velocity, which removes the on/off chatter of a sphere lifting
    off slowly (see ``dynamics.normal_contact_active_set``); ``"explicit"``: the clip is taken at
    the start of the step. ``gaitsim.tuned.tuned_solver`` rebuilds the integrator a tuned solution
    was tuned with (and ``tuned_dt`` its step).
    mechanics_substeps: sub-steps of the skeleton and contact per step (default 1: none). The step
    error of the walking gait is in the mechanics: with n sub-steps the gait follows the
    mechanics' sub-step while the muscles, the fibre update and the controller run at dt, where
    their own error is small. The muscles' generalized forces are held over the step; the
    controller's delay lines count in steps of dt. Each sub-step after the first costs a force
    evaluation without the muscles and a solve (compiled: all of them in one kernel call). The
    shipped trunk-initiated walker is tuned with 4 sub-steps at dt = 0.5 ms (and
    ``damping_theta=0.5``).
    damping_theta: where in the (sub-)step the damping forces (contact, joint limits, actuators)
    take their speeds, ``qdot_n + theta h qddot``, in [0.5, 1]. 1 (default): the end-of-step
    speeds, backward Euler, L-stable. 0.5: the step's mid-point, the trapezoidal rule. Symplectic
    Euler's positions sit between its speeds (it is the Stormer-Verlet leapfrog with staggered
    speeds; Hairer, Lubich & Wanner, Geometric Numerical Integration, 2nd ed., 2006, sections I.3
    and VI.3), so with 0.5 the damping is centred on the position the spring forces are taken at,
    and the first-order error of the damping goes (the speed-dependent skeleton forces stay
    explicit, so the step as a whole stays first order). The trapezoidal rule is A-stable but not
    L-stable: a damping time constant far below the sub-step rings (factor -> -1) instead of
    decaying, so keep 0.5 to sub-steps at or below about 0.125 ms (the contact's vertical damping
    time constant under a loaded foot is about 0.05-0.1 ms).
    """

    order: int = 1
    backend: str = "auto"
    fiber_iterations: int = 3
    normal_contact: str = "active_set"
    mechanics_substeps: int = 1
    damping_theta: float = 1.0

    def __post_init__(self):
        from .compiled import resolve_backend

        object.__setattr__(self, "backend", resolve_backend(self.backend, "SemiImplicitEuler.backend"))
        k = self.fiber_iterations
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= MAX_FIBER_ITERATIONS:
            raise ValueError(f"SemiImplicitEuler.fiber_iterations must be an integer in [0, {MAX_FIBER_ITERATIONS}], "
                             f"got {k!r}")
        if self.normal_contact not in NORMAL_CONTACT:
            raise ValueError(f"SemiImplicitEuler.normal_contact must be one of {NORMAL_CONTACT}, "
                             f"got {self.normal_contact!r}")
        n = self.mechanics_substeps
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_MECHANICS_SUBSTEPS:
            raise ValueError(f"SemiImplicitEuler.mechanics_substeps must be an integer in "
                             f"[1, {MAX_MECHANICS_SUBSTEPS}], got {n!r}")
        th = self.damping_theta
        low, high = DAMPING_THETA_RANGE
        if isinstance(th, bool) or not isinstance(th, (int, float, np.integer, np.floating)) or not low <= th <= high:
            raise ValueError(f"SemiImplicitEuler.damping_theta must be a number in [{low}, {high}], got {th!r}")

    def step(self, model: Model, t: float, x: np.ndarray, memory: np.ndarray, layout: StateLayout, controller,
             dt: float, carry: dict | None = None):
        """One step from the physical state x (n_phys, B); the controller may update ``memory`` in place.

        carry: optional dict kept by the caller across the steps of one run (one model, one dt): the
        compiled fibre update leaves the cos and sin of the new coordinates there, and the next
        step's force evaluation takes them when it starts from exactly that state array
        (``carry["state"] is x``); the compiled backend keeps the activation decay there, and two
        sets of output arrays that the steps use in turn (``compiled.update.StepBuffers``): with a
        carry, the returned forces and state are overwritten two steps later."""
        blk = layout.blocks
        q, qd = x[blk["q"]], x[blk["qdot"]]
        act, lce = x[blk["activation"]], x[blk["fiber_length"]]
        nb = x.shape[1]
        anchor = x[blk["anchor"]].reshape(2, 2, nb)
        mode = x[blk["mode"]].reshape(2, 2, nb)
        be = _backend_functions(self.backend)
        buffers = None
        if carry is not None and be.update is not None:  # compiled: output arrays reused over the run
            buffers = carry.get("buffers")
            if buffers is None:
                from .compiled.update import StepBuffers

                buffers = carry["buffers"] = StepBuffers(model, x)
        kw = {}
        if buffers is not None:
            kw["outputs"], kw["outputs_zeroed"] = buffers.forces()
        if carry is not None and carry.get("state") is x:
            fs = be.forces(model, q, qd, act, lce, anchor, mode, trig=carry["trig"], **kw)
        else:
            fs = be.forces(model, q, qd, act, lce, anchor, mode, **kw)
        out = controller(t, fs, memory)
        if self.mechanics_substeps > 1:  # multirate: the update's q, qdot and contact rows are then replaced
            mechanics, qdd = self._substeps(model, fs, out, act, lce, dt, be)
        else:
            mechanics, qdd = None, self._accelerations(model, fs, out, dt, be)
        if be.update is not None:
            decay = None  # exp(-dt / tau_act): fixed over a run, so taken once per run (carry)
            if carry is not None:
                decay = carry.get("activation_decay")
                if decay is None:
                    decay = carry["activation_decay"] = np.exp(-dt / model.muscles.tau_act)
            new = be.update(model, x, fs, out.excitation, qdd, dt, blk, decay,
                            None if buffers is None else buffers.state(x))
            if mechanics is not None:  # the sub-stepped coordinates and contact state replace the update's
                _put_mechanics(new, blk, mechanics)
            if self.fiber_iterations:
                trig = be.fiber_newton(model, x, new, fs, dt, blk, self.fiber_iterations)
                if carry is not None:
                    carry["state"], carry["trig"] = new, trig
            return new, fs, out
        new = np.empty_like(x)
        if mechanics is not None:
            _put_mechanics(new, blk, mechanics)
        else:
            qd_new = qd + dt * qdd
            new[blk["qdot"]] = qd_new
            new[blk["q"]] = q + dt * qd_new
            new[blk["anchor"]] = fs.anchor.reshape(4, nb)
            new[blk["mode"]] = fs.mode.reshape(4, nb)
        u = np.clip(out.excitation, MIN_EXCITATION, 1.0)
        new[blk["activation"]] = mus.activation_step(act, u, dt, model.muscles.tau_act)
        stiff = np.minimum(fs.dv_dl, 0.0)
        new[blk["fiber_length"]] = lce + dt * fs.fiber_velocity / (1.0 - dt * stiff)
        if self.fiber_iterations:
            new[blk["fiber_length"]] = backward_euler_fibers(model, lce, new[blk["q"]], new[blk["activation"]],
                                                             new[blk["fiber_length"]], dt, self.fiber_iterations, fs.fl)
        return new, fs, out

    def _accelerations(self, model: Model, fs, out, dt: float, be: _Backend):
        """qddot over a (sub-)step dt with the chosen normal-contact treatment, the damping forces
        at the speeds ``damping_theta * dt`` into it."""
        h = self.damping_theta * dt
        if self.normal_contact == "active_set":
            return accelerations_contact_active_set(model, fs, out.torque, out.damping, h, be.solve, be.active_set)
        return be.solve(model, fs, out.torque, out.damping, h)

    def _substeps(self, model: Model, fs, out, act, lce, dt: float, be: _Backend):
        """((q, qdot, anchor, mode) at the end of a step of ``mechanics_substeps`` sub-steps of the
        skeleton and contact, the last sub-step's qddot); ``fs``: the forces at the step's start."""
        h = dt / self.mechanics_substeps
        if be.substeps is not None:  # compiled: all sub-steps in one kernel call, the same arithmetic
            return be.substeps(model, fs, out, act, lce, h, self.mechanics_substeps,
                               self.normal_contact == "active_set", self.damping_theta * h)
        qdd = self._accelerations(model, fs, out, h, be)  # the first sub-step, with the step's forces
        qd = fs.qdot + h * qdd
        q = fs.q + h * qd
        anchor, mode = fs.anchor, fs.mode
        for _ in range(1, self.mechanics_substeps):
            sub = be.forces(model, q, qd, act, lce, anchor, mode, muscles=False)
            sub.muscle_moment[...] = fs.muscle_moment  # muscles held over the step (in place: padded rows too)
            qdd = self._accelerations(model, sub, _continued(out, qd - fs.qdot), h, be)
            qd = qd + h * qdd
            q = q + h * qd
            anchor, mode = sub.anchor, sub.mode
        return (q, qd, anchor, mode), qdd


def _continued(out, dqd):
    """The controller's output continued to a sub-step whose speeds differ by ``dqd`` (10, B) from
    the step's start: actuator torque ``tau - d * dqd``, the linearization its damping ``d =
    -dtau/dqdot`` states (and the implicit treatment of a single step assumes). Excitations, and
    torques without damping, are held."""
    if out.torque is None or out.damping is None:
        return out
    return replace(out, torque=out.torque - out.damping * dqd)


def _put_mechanics(new: np.ndarray, blk: dict, mechanics) -> None:
    """Write sub-stepped (q, qdot, anchor, mode) into the new state ``new`` (n_phys, B) in place."""
    q, qd, anchor, mode = mechanics
    nb = new.shape[1]
    new[blk["q"]] = q
    new[blk["qdot"]] = qd
    new[blk["anchor"]] = anchor.reshape(4, nb)
    new[blk["mode"]] = mode.reshape(4, nb)


def backward_euler_fibers(model: Model, l_old, q_new, act_new, l_guess, dt: float, iterations: int, fl_old):
    """Fibre lengths (m) of a backward-Euler step ``l = l_old + dt v_ce(l, act_new, l_mtu(q_new))``.

    Newton iterations from ``l_guess`` (n_muscles, B); the Jacobian is ``1 - dt min(dv/dl, 0)``,
    the same clipped slope as the linearly implicit step, so an iteration never divides by a
    number below 1. A fixed number of iterations (no per-walker test), so every walker does the
    same work and a batch equals its single runs. ``fl_old``: the force-length factor at
    ``l_old`` (``ForceState.fl``); the iterations carry f_L from it (``muscles.exp_near``) instead
    of calling exp, which was 2/3 of an iteration's cost in the compiled backend.
    """
    l_mtu, _ = path_geometry(model.paths, q_new)
    mp = model.muscles
    fl_ref = (fl_old, mus.force_length_exponent(l_old * mp.inv_l_opt))
    lce = l_guess
    for _ in range(iterations):  # Newton iterations, each over the whole (n_muscles, B) array
        _, v, dv_dl, _, _ = mus.fiber_dynamics(lce, act_new, l_mtu, mp, fl_ref)
        lce = lce - (lce - l_old - dt * v) / (1.0 - dt * np.minimum(dv_dl, 0.0))
    return lce


def _check_inputs(model: Model, duration: float, dt: float, x0: np.ndarray, layout: StateLayout, fall_height):
    if not np.isfinite(duration) or duration <= 0:
        raise ValueError(f"duration must be a finite number > 0 (s), got {duration}")
    if not np.isfinite(dt) or not (1e-7 <= dt <= 1e-2):
        raise ValueError(f"dt must lie in [1e-7, 1e-2] s, got {dt}")
    if x0.shape != (model.batch_size, layout.size):
        raise ValueError(f"initial_state: expected shape ({model.batch_size}, {layout.size}), got {x0.shape}")
    if not np.all(np.isfinite(x0)):
        raise ValueError("initial_state: values must be finite")
    if not np.isfinite(fall_height):
        raise ValueError("fall_height must be finite (m)")


def _check_controller_step(controller, dt: float) -> None:
    """A controller with delay lines counts them in steps of its own ``dt`` (s); it must be this one."""
    inner = getattr(controller, "controller", controller)  # a wrapper (TrunkPush) runs the inner one
    step = getattr(inner, "dt", None)
    if step is not None and not np.isclose(step, dt, rtol=1e-9, atol=0.0):
        raise ValueError(f"dt: the controller's delay lines count steps of {type(inner).__name__}.dt = {step} s, "
                         f"but simulate got dt = {dt} s; build the controller with the same step "
                         f"(tuned walkers: gaitsim.tuned.tuned_dt)")


def simulate(
    model: Model,
    controller: Controller | None = None,
    *,
    duration: float,
    dt: float = DEFAULT_DT,
    initial_state: np.ndarray | None = None,
    t0: float = 0.0,
    save=SaveEvery(),
    solver=SemiImplicitEuler(),
    fall_height: float = 0.4,
    progress=None,
    stop_when_all_failed: bool = False,
) -> Results:
    """Integrate a batch of walkers for ``duration`` seconds.

    model: from ``build_model`` (B walkers). controller: default ``ConstantExcitation(0.01)``.
    initial_state: (B, n_state) from ``state.initial_state`` (default: upright, feet 1 cm above
    the ground). dt: step (s). save: ``SaveEvery(k, fields)``, ``SaveSummary(fields)`` or ``SaveFinal()``.
    fall_height: a walker whose pelvis_ty drops below this (m) is flagged "fell" and frozen.
    progress: optional callable ``progress(t_done, t_total)`` called about 100 times.
    stop_when_all_failed: end early once every walker has fallen or diverged (saves time in
    optimization; the saved arrays then stop at that time).
    The controller memory of a walker keeps running after that walker has failed; only its
    physical state is frozen.
    Ctrl-C stops the run cleanly: the returned results hold every finished step and
    ``interrupted=True``; continue with ``simulate(..., initial_state=res.final_state, t0=res.t_end)``.
    """
    from .state import initial_state as make_initial_state

    controller = controller if controller is not None else ConstantExcitation()
    if initial_state is None:
        initial_state = make_initial_state(model, height_above_ground=0.01)
    x0 = np.asarray(initial_state, dtype=float)
    n_mem = x0.shape[1] - StateLayout(0).size if x0.ndim == 2 else 0
    layout = StateLayout(max(n_mem, 0))
    _check_inputs(model, duration, dt, x0, layout, fall_height)
    _check_controller_step(controller, dt)
    b = model.batch_size
    x = np.ascontiguousarray(x0.T)
    blk = layout.blocks
    memory = controller.initial_memory(model, x[blk["q"]], x[blk["qdot"]])
    if memory.shape[0] != layout.n_memory:
        if layout.n_memory == 0:  # the state carries no memory yet: append the controller's
            layout = StateLayout(memory.shape[0])
            x = np.concatenate([x, memory], axis=0)
            blk = layout.blocks
        else:
            raise ValueError(f"initial_state carries {layout.n_memory} memory slots, the controller needs "
                             f"{memory.shape[0]}")
    n_phys = StateLayout(0).size
    mem = np.ascontiguousarray(x[n_phys:])  # controller memory, updated in place by the controller
    x = np.ascontiguousarray(x[:n_phys])
    n_steps = int(round(duration / dt))
    status = np.full(b, STATUS_OK, dtype=np.int8)
    status_time = np.full(b, np.nan)
    recorder = Results.recorder(save, layout, b, n_steps, dt, t0)
    t = t0
    interrupted = False
    report_every = max(n_steps // 100, 1)
    started = _time.perf_counter()
    all_alive = np.ones(b, dtype=bool)
    any_failed = False  # until a walker fails, the per-step bookkeeping is one check
    carry: dict = {}  # what one step hands to the next (SemiImplicitEuler.step)
    health = _backend_functions(getattr(solver, "backend", "numpy")).health  # (finite, bad) per walker
    try:
        for n in range(n_steps):
            new, fs, out = solver.step(model, t, x, mem, layout, controller, dt, carry)
            if out.memory is not None and out.memory is not mem:
                mem = out.memory
            recorder.record(n, t, x, fs, out, (status == STATUS_OK) if any_failed else all_alive)
            t_new = t0 + (n + 1) * dt
            finite, bad = health(new, blk["qdot"], fall_height)
            if any_failed or bad.any():
                alive = status == STATUS_OK
                newly_bad = alive & bad
                if newly_bad.any():
                    status[newly_bad & ~finite] = STATUS_DIVERGED
                    status[newly_bad & finite] = STATUS_FELL
                    status_time[newly_bad] = t_new
                    any_failed = True
                    alive = status == STATUS_OK
                x = np.where(alive, new, x)  # failed walkers stay frozen
                if stop_when_all_failed and not alive.any():
                    t = t_new
                    break
            else:
                x = new
            t = t_new
            if progress is not None and (n + 1) % report_every == 0:
                progress(t - t0, duration)
    except KeyboardInterrupt:
        interrupted = True
    n_done = int(round((t - t0) / dt))
    return recorder.finish(model, np.concatenate([x, mem], axis=0), t, n_done, status, status_time, interrupted,
                           wall_time=_time.perf_counter() - started)


__all__ = [
    "DEFAULT_DT",
    "NORMAL_CONTACT",
    "N_COORDINATES",
    "SaveEvery",
    "SaveFinal",
    "SaveSummary",
    "SemiImplicitEuler",
    "backward_euler_fibers",
    "simulate",
]
