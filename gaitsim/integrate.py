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

The step size is given once: ``simulate(dt=)`` hands it to ``SemiImplicitEuler.init``, which
keeps it in the run's ``StepState`` with what the steps reuse (the activation decay, the compiled
kernels' arrays, the cosines and sines the fibre update leaves for the next force evaluation);
``step`` takes that state and returns the next one. The controller takes the step from the state
as well (``control.bind_step``), before it makes its memory.

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
from typing import Callable

import numpy as np

from . import compiled
from . import dynamics
from . import muscles as mus
from .control import MIN_EXCITATION, ConstantExcitation, Controller, bind_step
from .dynamics import accelerations_contact_active_set
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


@dataclass(slots=True)
class StepState:
    """What the steps of one run share and hand on: made by ``SemiImplicitEuler.init``, taken,
    updated and returned by ``SemiImplicitEuler.step`` (as a diffrax solver's state).

    dt: the step (s); the one place a run keeps it (the controller takes it from here,
    ``control.bind_step``).
    blocks: {block name: slice} of the physical state (``StateLayout(0).blocks``).
    activation_decay: ``exp(-dt / tau_act)``, (n_muscles, B): the exact activation step's factor.
    workspace: the compiled kernels' arrays reused over the run (``compiled.StepWorkspace``); None
    for numpy, or when the run allocates new arrays at every step.
    trig: (cos q, sin q), (10, B) each, of the state array ``trig_of``: the compiled fibre update
    computes them and the next force evaluation takes them when it starts from that very array;
    None when unknown.
    turn: which of the workspace's two sets of force arrays the step writes (0 or 1).
    """

    dt: float
    blocks: dict
    activation_decay: np.ndarray
    workspace: compiled.StepWorkspace | None = None
    trig: tuple | None = None
    trig_of: np.ndarray | None = None
    turn: int = 0


def _split_state(x: np.ndarray, blocks: dict):
    """(q, qdot (10, B); activation, fibre length (n_muscles, B); anchor, mode (2, 2, B)) of the
    physical state ``x`` (n_phys, B), as views."""
    nb = x.shape[1]
    return (x[blocks["q"]], x[blocks["qdot"]], x[blocks["activation"]], x[blocks["fiber_length"]],
            x[blocks["anchor"]].reshape(2, 2, nb), x[blocks["mode"]].reshape(2, 2, nb))


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

    backend: str = "auto"
    fiber_iterations: int = 3
    normal_contact: str = "active_set"
    mechanics_substeps: int = 1
    damping_theta: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "backend", compiled.resolve_backend(self.backend, "SemiImplicitEuler.backend"))
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

    def init(self, model: Model, x: np.ndarray, dt: float, reuse_arrays: bool = True) -> StepState:
        """The ``StepState`` of a run of ``model`` with step ``dt`` (s) from the physical state ``x``
        (n_phys, B). reuse_arrays: the compiled backend writes each step's forces and new state into
        arrays kept in the state, used in turn (a returned force state and new state are then
        overwritten two steps later); False allocates new ones at every step."""
        workspace = None
        if self.backend == "numba" and reuse_arrays:
            workspace = compiled.step_workspace(model, x)
        return StepState(float(dt), StateLayout(0).blocks, mus.activation_decay(dt, model.muscles.tau_act), workspace)

    def step(self, model: Model, t: float, x: np.ndarray, memory: np.ndarray, controller, state: StepState):
        """One step of ``state.dt`` from the physical state x (n_phys, B) at time t (s).

        Returns ``(new physical state (n_phys, B), the ForceState at x, the controller's
        ControlOutput, the StepState for the next step)``. The controller may update ``memory`` in
        place."""
        if self.backend == "numba":
            return self._step_compiled(model, t, x, memory, controller, state)
        return self._step_numpy(model, t, x, memory, controller, state)

    def _step_numpy(self, model: Model, t: float, x, memory, controller, state: StepState):
        """``step`` on the numpy reference: forces, controller, accelerations (or the mechanics
        sub-steps), then the update of the coordinates, activations and fibre lengths."""
        dt, blocks = state.dt, state.blocks
        q, qdot, activation, fiber_length, anchor, mode = _split_state(x, blocks)
        forces = dynamics.evaluate_forces(model, q, qdot, activation, fiber_length, anchor, mode)
        out = controller(t, forces, memory)
        new = np.empty_like(x)
        if self.mechanics_substeps > 1:
            mechanics, _ = self._substep_loop(model, forces, out, activation, fiber_length,
                                              dt / self.mechanics_substeps, dynamics.evaluate_forces,
                                              dynamics.accelerations, dynamics.normal_contact_active_set)
            _put_mechanics(new, blocks, mechanics)
        else:
            qdd = self._accelerations(model, forces, out.torque, out.damping, dt, dynamics.accelerations,
                                      dynamics.normal_contact_active_set)
            qdot_new = qdot + dt * qdd
            _put_mechanics(new, blocks, (q + dt * qdot_new, qdot_new, forces.anchor, forces.mode))
        u = np.clip(out.excitation, MIN_EXCITATION, 1.0)
        new[blocks["activation"]] = mus.activation_step(activation, u, dt, model.muscles.tau_act,
                                                        state.activation_decay)
        stiff = np.minimum(forces.dv_dl, 0.0)
        new[blocks["fiber_length"]] = fiber_length + dt * forces.fiber_velocity / (1.0 - dt * stiff)
        if self.fiber_iterations:
            new[blocks["fiber_length"]] = backward_euler_fibers(
                model, fiber_length, new[blocks["q"]], new[blocks["activation"]], new[blocks["fiber_length"]], dt,
                self.fiber_iterations, forces.fl)
        return new, forces, out, state

    def _step_compiled(self, model: Model, t: float, x, memory, controller, state: StepState):
        """``step`` on the compiled kernels (``gaitsim.compiled``), the same recipe as
        ``_step_numpy``: forces, controller, accelerations (or the mechanics sub-steps in one kernel
        call), the state update, the Newton fibre update."""
        dt, blocks, workspace = state.dt, state.blocks, state.workspace
        q, qdot, activation, fiber_length, anchor, mode = _split_state(x, blocks)
        trig = state.trig if state.trig_of is x else None
        outputs = None if workspace is None else workspace.forces[state.turn]
        forces = compiled.evaluate_forces(model, q, qdot, activation, fiber_length, anchor, mode, trig=trig,
                                          outputs=outputs, outputs_zeroed=outputs is not None,
                                          records=None if workspace is None else workspace.model)
        out = controller(t, forces, memory)
        mechanics = None
        if self.mechanics_substeps > 1:  # the update's q, qdot and contact rows are then replaced
            h = dt / self.mechanics_substeps
            mechanics, qdd = compiled.mechanics_substeps(model, forces, out, activation, fiber_length, h,
                                                         self.mechanics_substeps, self.normal_contact == "active_set",
                                                         self.damping_theta * h, workspace)
        else:
            torque, damping = out.torque, out.damping
            if workspace is not None:
                torque, damping = workspace.actuator_rows(torque), workspace.actuator_rows(damping)
            qdd = self._accelerations(model, forces, torque, damping, dt, compiled.accelerations,
                                      compiled.normal_contact_active_set)
        new = compiled.update_state(model, x, forces, out.excitation, qdd, dt, blocks, state.activation_decay,
                                    None if workspace is None else workspace.new_state_array(x))
        if mechanics is not None:
            _put_mechanics(new, blocks, mechanics)
        trig = None
        if self.fiber_iterations:
            trig = compiled.fiber_newton(model, x, new, forces, dt, blocks, self.fiber_iterations,
                                         None if workspace is None else workspace.model)
        state.trig, state.trig_of, state.turn = trig, None if trig is None else new, 1 - state.turn
        return new, forces, out, state

    def _accelerations(self, model: Model, forces, torque, damping, h: float, solve: Callable, active_set: Callable):
        """qddot (10, B) over a (sub-)step h (s) with the chosen normal-contact treatment, the
        damping forces at the speeds ``damping_theta * h`` into it. torque, damping: the actuators'
        (10, B) or None. solve, active_set: ``accelerations`` and ``normal_contact_active_set`` of
        the backend (``gaitsim.dynamics`` or ``gaitsim.compiled``)."""
        damping_step = self.damping_theta * h
        if self.normal_contact == "active_set":
            return accelerations_contact_active_set(model, forces, torque, damping, damping_step, solve, active_set)
        return solve(model, forces, torque, damping, damping_step)

    def _substep_loop(self, model: Model, forces, out, activation, fiber_length, h: float, evaluate: Callable,
                      solve: Callable, active_set: Callable):
        """The ``mechanics_substeps`` sub-steps h (s) of the skeleton and contact as a loop of force
        evaluations and solves (``evaluate``, ``solve``, ``active_set``: a backend's functions):
        ``((q, qdot, anchor, mode) at the step's end, the last sub-step's qddot)``; ``forces``: the
        forces at the step's start, ``out`` the controller's output there."""
        qdd = self._accelerations(model, forces, out.torque, out.damping, h, solve, active_set)  # the step's forces
        qd = forces.qdot + h * qdd
        q = forces.q + h * qd
        anchor, mode = forces.anchor, forces.mode
        for _ in range(1, self.mechanics_substeps):
            sub = evaluate(model, q, qd, activation, fiber_length, anchor, mode, muscles=False)
            sub.muscle_moment[...] = forces.muscle_moment  # muscles held over the step (in place: padded rows too)
            held = _continued(out, qd - forces.qdot)
            qdd = self._accelerations(model, sub, held.torque, held.damping, h, solve, active_set)
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


def _put_mechanics(new: np.ndarray, blocks: dict, mechanics) -> None:
    """Write (q, qdot (10, B), anchor, mode (2, 2, B)) into the new state ``new`` (n_phys, B) in place."""
    q, qdot, anchor, mode = mechanics
    nb = new.shape[1]
    new[blocks["q"]] = q
    new[blocks["qdot"]] = qdot
    new[blocks["anchor"]] = anchor.reshape(4, nb)
    new[blocks["mode"]] = mode.reshape(4, nb)


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
    muscles = model.muscles
    fl_ref = (fl_old, mus.force_length_exponent(l_old * muscles.inv_l_opt))
    lce = l_guess
    for _ in range(iterations):  # Newton iterations, each over the whole (n_muscles, B) array
        _, v, dv_dl, _, _ = mus.fiber_dynamics(lce, act_new, l_mtu, muscles, fl_ref)
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
    the ground). dt: the step (s): the solver keeps it in its ``StepState`` and hands it to the
    controller (``control.bind_step``). save: ``SaveEvery(k, fields)``, ``SaveSummary(fields)`` or ``SaveFinal()``.
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
    b = model.batch_size
    x = np.ascontiguousarray(x0.T)
    n_phys = StateLayout(0).size
    state = solver.init(model, x[:n_phys], dt)  # the run's step state; dt lives there from here on
    bind_step(controller, state.dt)  # the controller's delay lines count steps of the solver's dt
    blocks = layout.blocks
    memory = controller.initial_memory(model, x[blocks["q"]], x[blocks["qdot"]])
    if memory.shape[0] != layout.n_memory:
        if layout.n_memory == 0:  # the state carries no memory yet: append the controller's
            layout = StateLayout(memory.shape[0])
            x = np.concatenate([x, memory], axis=0)
        else:
            raise ValueError(f"initial_state carries {layout.n_memory} memory slots, the controller needs "
                             f"{memory.shape[0]}")
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
    health = compiled.walker_health if solver.backend == "numba" else walker_health  # (finite, bad) per walker
    try:
        for n in range(n_steps):
            new, forces, out, state = solver.step(model, t, x, mem, controller, state)
            if out.memory is not None and out.memory is not mem:
                mem = out.memory
            recorder.record(n, t, x, forces, out, (status == STATUS_OK) if any_failed else all_alive)
            t_new = t0 + (n + 1) * dt
            finite, bad = health(new, state.blocks["qdot"], fall_height)
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
    "StepState",
    "backward_euler_fibers",
    "simulate",
]
