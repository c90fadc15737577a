"""The forward recipe: state -> kinematics -> muscle forces -> contact -> limits -> accelerations.

``evaluate_forces`` computes every force element from the state (it does not need the
controller's output: muscle force depends on activation and fibre length, not on the
excitation). It runs as stages, pure functions on arrays, each returning a small record:
``kinematics`` -> ``muscle_forces`` -> ``contact_forces`` -> ``joint_limit_forces``, gathered into
a ``ForceState``. The controller reads the result as its sensors. ``accelerations`` then adds
the controller's generalized forces and solves the equations of motion, optionally with the
stiff damping terms treated implicitly over a time ``h`` (``damping_step``, s):

    (M + h D) qddot = f(q, qdot)

where ``D`` collects the contact damping (``c J^T J`` per sphere and direction), the
joint-limit damping and any actuator damping. ``h`` is ``theta`` times the (sub-)step of
``SemiImplicitEuler`` (``damping_theta``); ``h = 0`` gives the plain ODE right-hand side (used
by ``derivatives`` and the scipy oracle tests).

Arrays are batch-last throughout.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from . import contact as contact_law
from . import muscles as mus
from . import skeleton
from ._fixed import seq_sum
from .joint_limits import LIMITED_SLICE, limit_torques
from .model import Model, muscle_generalized_forces, path_geometry
from .muscle_table import PAIR_NAMES
from .names import N_COORDINATES, N_MUSCLES

#: parent absolute coordinate of each OpenSim coordinate's angle (q_j = psi_j - psi_parent), -1 for none
_PARENT_OF = (-1, -1, -1, 2, 2, 4, 5, 2, 7, 8)


@dataclass
class ForceState:
    """Everything evaluated from one state (batch-last arrays).

    Muscles (n_muscles, B): ``mtu_length`` (m), ``fiber_velocity`` (m/s), ``dv_dl`` (1/s),
    ``force`` (tendon force, N), ``fl`` (force-length factor), ``fiber_length_norm`` (l/l_opt).
    ``moment_arms`` (P, B) m. ``muscle_moment`` (10, B): generalized force of all muscles (N m).
    Contact (2 legs, 2 spheres, B): ``sphere_pos``/``sphere_vel`` (2 xy, ...), ``fn``, ``ft`` (N),
    ``cn``, ``ct`` (N s/m), ``anchor``, ``mode`` (the friction state to carry into the next step),
    ``contact_jac`` (2 xy, legs, spheres, 4 links, B).
    ``limit_moment``/``limit_damping`` (10, B). ``psi``/``psidot``: absolute coordinates.
    """

    q: np.ndarray
    qdot: np.ndarray
    psi: np.ndarray
    psidot: np.ndarray
    mass_matrix: np.ndarray
    bias: np.ndarray
    mtu_length: np.ndarray
    moment_arms: np.ndarray
    force: np.ndarray
    fiber_velocity: np.ndarray
    dv_dl: np.ndarray
    fl: np.ndarray
    fiber_length_norm: np.ndarray
    muscle_moment: np.ndarray
    sphere_pos: np.ndarray
    sphere_vel: np.ndarray
    contact_jac: np.ndarray
    fn: np.ndarray
    ft: np.ndarray
    cn: np.ndarray
    ct: np.ndarray
    anchor: np.ndarray
    mode: np.ndarray
    limit_moment: np.ndarray
    limit_damping: np.ndarray
    #: the same arrays with padded rows, as the compiled kernels take them (``compiled.physics``);
    #: None for the numpy backend
    padded: ForceState | None = None

    @property
    def grf(self) -> np.ndarray:
        """Ground reaction force per foot, (2 xy, 2 legs, B) N."""
        return np.stack([seq_sum(self.ft, axis=1), seq_sum(self.fn, axis=1)])


class Kinematics(NamedTuple):
    """The kinematics stage at a state (batch-last): absolute coordinates and the skeleton's
    equations of motion in them (``skeleton.mass_matrix_and_forces``)."""

    psi: np.ndarray  # (10, B) absolute coordinates (m, rad)
    psidot: np.ndarray  # (10, B) their rates (m/s, rad/s)
    mass_matrix: np.ndarray  # (10, 10, B) kg, kg m, kg m^2
    bias: np.ndarray  # (10, B) velocity-product and gravity forces on psi (N, N m)
    cos: np.ndarray  # (8, B) cos of the absolute angles psi[2:]
    sin: np.ndarray  # (8, B) their sin


class MuscleForces(NamedTuple):
    """The muscle stage: path geometry, fibre dynamics and generalized forces (the ``ForceState``
    fields of the same names)."""

    mtu_length: np.ndarray  # (n_muscles, B) m
    moment_arms: np.ndarray  # (P, B) m
    force: np.ndarray  # (n_muscles, B) N: tendon force
    fiber_velocity: np.ndarray  # (n_muscles, B) m/s
    dv_dl: np.ndarray  # (n_muscles, B) 1/s
    fl: np.ndarray  # (n_muscles, B): force-length factor
    fiber_length_norm: np.ndarray  # (n_muscles, B): l / l_opt
    muscle_moment: np.ndarray  # (10, B) N, N m


class ContactForces(NamedTuple):
    """The contact stage: the spheres' kinematics and forces (the ``ForceState`` fields of the same names)."""

    sphere_pos: np.ndarray  # (2 xy, 2 legs, 2 spheres, B) m
    sphere_vel: np.ndarray  # (2 xy, 2 legs, 2 spheres, B) m/s
    contact_jac: np.ndarray  # (2 xy, 2 legs, 2 spheres, 4 links, B) m
    fn: np.ndarray  # (2 legs, 2 spheres, B) N
    ft: np.ndarray  # (2 legs, 2 spheres, B) N
    cn: np.ndarray  # (2 legs, 2 spheres, B) N s/m
    ct: np.ndarray  # (2 legs, 2 spheres, B) N s/m
    anchor: np.ndarray  # (2 legs, 2 spheres, B) m: the friction state to carry into the next step
    mode: np.ndarray  # (2 legs, 2 spheres, B)


class LimitForces(NamedTuple):
    """The joint-limit stage."""

    limit_moment: np.ndarray  # (10, B) N m
    limit_damping: np.ndarray  # (10, B) N m s/rad


def kinematics(model: Model, q, qdot) -> Kinematics:
    """Stage 1: absolute coordinates, mass matrix and bias forces at q, qdot (10, B)."""
    psi = skeleton.abs_from_rel(q)
    psidot = skeleton.abs_from_rel(qdot)
    mass_matrix, bias, (cos, sin) = skeleton.mass_matrix_and_forces(model.skeleton, psi, psidot)
    return Kinematics(psi, psidot, mass_matrix, bias, cos, sin)


def muscle_forces(model: Model, q, activation, fiber_length) -> MuscleForces:
    """Stage 2: path lengths and moment arms at q (10, B), tendon force and fibre velocity at the
    activations and fibre lengths (n_muscles, B), and their generalized forces."""
    l_mtu, arms = path_geometry(model.paths, q)
    f_se, v_ce, dv_dl, f_l, l_norm = mus.fiber_dynamics(fiber_length, activation, l_mtu, model.muscles)
    return MuscleForces(l_mtu, arms, f_se, v_ce, dv_dl, f_l, l_norm, muscle_generalized_forces(arms, f_se))


def no_muscle_forces(nb: int) -> MuscleForces:
    """Stage 2 without muscles: every field zero."""
    zeros = np.zeros((N_MUSCLES, nb))
    return MuscleForces(zeros, np.zeros((len(PAIR_NAMES), nb)), zeros, zeros, zeros, zeros, zeros,
                        np.zeros((N_COORDINATES, nb)))


def contact_forces(model: Model, kin: Kinematics, anchor, mode) -> ContactForces:
    """Stage 3: the contact spheres' positions, velocities and Jacobians, and their normal and
    friction forces from the friction state (anchor, mode: (2 legs, 2 spheres, B)) of the step's start."""
    contact = model.contact
    pos, vel, jac = skeleton.foot_point_kinematics(model.skeleton, kin.psi, kin.psidot, kin.cos, kin.sin,
                                                   contact.sphere_x, contact.sphere_y)
    if model.options.contact:
        fn, cn = contact_law.normal_force(pos[1], vel[1], contact.radius, contact)
        ft, ct, anchor, mode = contact_law.friction_force(pos[0], vel[0], fn, anchor, mode, contact,
                                                          model.options.friction)
    else:
        fn = ft = cn = ct = np.zeros(pos.shape[1:])
        anchor, mode = pos[0], np.zeros(pos.shape[1:])
    return ContactForces(pos, vel, jac, fn, ft, cn, ct, anchor, mode)


def joint_limit_forces(model: Model, q, qdot) -> LimitForces:
    """Stage 4: the joint-limit torques and their damping at q, qdot (10, B)."""
    nb = q.shape[1]
    limit_moment = np.zeros((N_COORDINATES, nb))
    limit_damping = np.zeros((N_COORDINATES, nb))
    if model.options.joint_limits:
        lim = model.limits
        tau, damp = limit_torques(q[LIMITED_SLICE], qdot[LIMITED_SLICE], lim.lower, lim.upper, lim.stiffness,
                                  lim.w_max)
        limit_moment[LIMITED_SLICE] = tau
        limit_damping[LIMITED_SLICE] = damp
    return LimitForces(limit_moment, limit_damping)


def evaluate_forces(model: Model, q, qdot, act, lce, anchor, mode, muscles: bool = True) -> ForceState:
    """All force elements at one state, stage by stage: kinematics -> muscles -> contact -> joint
    limits (``accelerations`` is the last stage). Shapes: q, qdot (10, B); act, lce (n_muscles, B);
    anchor, mode (2, 2, B). ``muscles=False`` skips the muscles (their fields are zero), for the
    mechanics sub-steps of ``SemiImplicitEuler(mechanics_substeps > 1)``."""
    kin = kinematics(model, q, qdot)
    muscle = muscle_forces(model, q, act, lce) if model.options.muscles and muscles else no_muscle_forces(q.shape[1])
    contact = contact_forces(model, kin, anchor, mode)
    limits = joint_limit_forces(model, q, qdot)
    return ForceState(q=q, qdot=qdot, psi=kin.psi, psidot=kin.psidot, mass_matrix=kin.mass_matrix, bias=kin.bias,
                      **muscle._asdict(), **contact._asdict(), **limits._asdict())


def accelerations(model: Model, forces: ForceState, actuator_torque=None, actuator_damping=None,
                  damping_step: float = 0.0):
    """Stage 5: coordinate accelerations qddot (10, B).

    actuator_torque: (10, B) extra generalized forces (N, N m), e.g. from test actuators.
    actuator_damping: (10, B) >= 0, their -d(torque)/d(qdot), treated implicitly with the
    contact and limit damping when ``damping_step > 0``.
    damping_step: the time (s) over which the damping forces are taken implicitly: the damping
    forces act at the speeds ``qdot + damping_step * qddot`` (``SemiImplicitEuler``: theta h of a
    (sub-)step h); 0 gives the plain ODE right-hand side.
    """
    tau = forces.muscle_moment + forces.limit_moment
    if actuator_torque is not None:
        tau = tau + actuator_torque
    Q = skeleton.abs_forces_from_rel(tau)  # generalized forces in absolute coordinates
    # contact forces: J^T F, per leg on (x, y, pelvis angle, femur, tibia, foot)
    jac = forces.contact_jac  # (2 xy, legs, spheres, 4, B)
    gen = seq_sum(jac[0] * forces.ft[:, :, None] + jac[1] * forces.fn[:, :, None], axis=1)  # (legs, 4, B)
    Q[0] += seq_sum(seq_sum(forces.ft))
    Q[1] += seq_sum(seq_sum(forces.fn))
    Q[2] += gen[0, 0] + gen[1, 0]
    Q[4:7] += gen[0, 1:]
    Q[7:10] += gen[1, 1:]
    M = forces.mass_matrix
    if damping_step > 0.0:
        M = M.copy()
        damping = forces.limit_damping if actuator_damping is None else forces.limit_damping + actuator_damping
        _add_joint_damping(M, damping * damping_step)
        if model.options.contact:
            _add_contact_damping(M, forces, damping_step)
    psiddot = skeleton.solve_tree(M, forces.bias + Q)
    return skeleton.rel_from_abs(psiddot)


#: absolute coordinates of the links of each leg in ``ForceState.contact_jac``: pelvis, femur, tibia, foot
_LEG_LINKS = np.array([[2, 4, 5, 6], [2, 7, 8, 9]])


def normal_contact_active_set(model: Model, forces: ForceState, qddot, damping_step: float):
    """Which contact spheres push at the end of a step: the active set of the normal contact.

    The normal law is ``F = k pen (1 - vy/v_n)`` for ``pen > 0``, clipped at 0. The explicit clip
    (a sphere that rises faster than v_n carries no force and no damping during the step) lets
    a sphere that lifts off slowly chatter on and off the ground at the step frequency: the
    continuous model slides along ``vy = v_n`` there, the discrete one alternates 300 N and 0
    from step to step for about 8 ms at each toe-off, and the push-off it delivers depends on
    the step. Here every sphere inside the ground is a candidate: with its force linear in the
    end-of-step velocity, ``F_end = F_lin - c dt a_y`` (``F_lin`` the unclipped law, ``c = k pen/v_n``,
    ``a_y`` the sphere's vertical acceleration from ``qddot`` of a first solve, dt the
    ``damping_step``, s), it is active when ``F_end > 0``.

    Returns ``(fn, cn, changed)``: the normal force (N) and damping (N s/m) of each sphere
    (2 legs, 2 spheres, B) with this active set (``F_lin`` and ``c`` where active, else 0), and
    ``changed`` (B,) bool: walkers whose active set differs from the explicit law's (those
    need a second solve).
    """
    contact = model.contact
    pen = contact.radius - forces.sphere_pos[1]
    inside = pen > 0.0
    v_n = contact.normal_damping_velocity
    f_lin = np.where(inside, contact.normal_stiffness * pen * (1.0 - forces.sphere_vel[1] / v_n), 0.0)
    c = np.where(inside, contact.normal_stiffness * pen / contact.normal_damping_velocity, 0.0)
    psidd = skeleton.abs_from_rel(qddot)
    a_y = psidd[1] + np.einsum("lskb,lkb->lsb", forces.contact_jac[1], psidd[_LEG_LINKS])
    active = inside & (f_lin - c * damping_step * a_y > 0.0)
    explicit = inside & (f_lin > 0.0)
    changed = (active != explicit).reshape(4, -1).any(axis=0)
    return np.where(active, f_lin, 0.0), np.where(active, c, 0.0), changed


def accelerations_contact_active_set(model: Model, forces: ForceState, actuator_torque=None, actuator_damping=None,
                                     damping_step: float = 0.0, solve=accelerations,
                                     active_set=normal_contact_active_set):
    """``accelerations`` with the damping over ``damping_step`` (s) and the normal contact's active
    set decided implicitly (``normal_contact_active_set``): a first solve with the explicit law;
    walkers whose active set changes are solved again with it (one re-solve; a third pass was
    never needed in 6 s of walking at 0.25 ms, where 2.4 % of the steps took the second). The
    tangential forces stay those of the explicit law. ``solve``, ``active_set``: numpy (default)
    or the compiled ``gaitsim.compiled.accelerations`` and ``normal_contact_active_set``."""
    qdd = solve(model, forces, actuator_torque, actuator_damping, damping_step)
    if damping_step <= 0.0 or not model.options.contact:
        return qdd
    fn, cn, changed = active_set(model, forces, qdd, damping_step)
    redo = np.flatnonzero(changed)
    if redo.size == 0:
        return qdd
    nb = qdd.shape[1]
    if 2 * redo.size < nb:  # few walkers changed (the usual case in a large batch): solve just those
        sub = _solve_inputs_of(forces, redo, fn[..., :nb], cn[..., :nb])
        torque, damping = (None if a is None else np.take(np.broadcast_to(a, qdd.shape), redo, axis=-1)
                           for a in (actuator_torque, actuator_damping))
        qdd[:, redo] = solve(model, sub, torque, damping, damping_step)
        return qdd
    if forces.padded is not None:  # compiled, padded rows: fn and cn come with them
        again = replace(forces, fn=fn[..., :nb], cn=cn[..., :nb], padded=replace(forces.padded, fn=fn, cn=cn))
    else:
        again = replace(forces, fn=fn, cn=cn)
    return np.where(changed, solve(model, again, actuator_torque, actuator_damping, damping_step), qdd)


#: the ``ForceState`` fields that ``accelerations`` (numpy and compiled) reads
_SOLVE_FIELDS = ("q", "mass_matrix", "bias", "muscle_moment", "limit_moment", "limit_damping", "contact_jac",
                 "ft", "ct", "fn", "cn")


def _solve_inputs_of(forces: ForceState, walkers, fn, cn) -> ForceState:
    """The solve's inputs for a subset of walkers (contiguous copies, batch last), with the normal
    forces ``fn`` and damping ``cn`` replaced. Only the fields in ``_SOLVE_FIELDS`` are cut to the
    subset; the result is for ``accelerations`` only. Each walker's arithmetic in the solve does not
    depend on the others, so the subset gives the numbers of the whole-batch solve."""
    source = {f: getattr(forces, f) for f in _SOLVE_FIELDS} | {"fn": fn, "cn": cn}
    return replace(forces, padded=None, **{f: np.take(a, walkers, axis=-1) for f, a in source.items()})


def _add_joint_damping(M, d) -> None:
    """M += G^T diag(d) G for damping d (10, B) on the OpenSim coordinates (q_j = psi_j - psi_parent)."""
    for j in range(N_COORDINATES):  # loop over the 10 coordinates, fixed order
        p = _PARENT_OF[j]
        M[j, j] += d[j]
        if p >= 0:
            M[p, p] += d[j]
            M[j, p] -= d[j]
            M[p, j] -= d[j]


def _add_contact_damping(M, forces: ForceState, damping_step: float) -> None:
    """M += h * sum over spheres and directions of c g g^T, g the sphere's velocity Jacobian row
    (h: ``damping_step``, s).

    Per leg, g runs over (x, y, pelvis, femur, tibia, foot); the x row has g = (1, 0, J_x) and
    the y row g = (0, 1, J_y), so the 6x6 block is assembled from its pieces.
    """
    jx, jy = forces.contact_jac[0], forces.contact_jac[1]  # (legs, spheres, 4 links, B)
    wx = forces.ct[:, :, None] * jx
    wy = forces.cn[:, :, None] * jy
    nb = jx.shape[-1]
    D = np.zeros((2, 6, 6, nb))
    D[:, 0, 0] = seq_sum(forces.ct, axis=1)
    D[:, 1, 1] = seq_sum(forces.cn, axis=1)
    D[:, 2:, 0] = D[:, 0, 2:] = seq_sum(wx, axis=1)
    D[:, 2:, 1] = D[:, 1, 2:] = seq_sum(wy, axis=1)
    D[:, 2:, 2:] = seq_sum(wx[:, :, :, None] * jx[:, :, None] + wy[:, :, :, None] * jy[:, :, None], axis=1)
    D *= damping_step
    M[0:3, 0:3] += D[0, :3, :3] + D[1, :3, :3]
    for leg, rows in ((0, slice(4, 7)), (1, slice(7, 10))):
        M[rows, rows] += D[leg, 3:, 3:]
        M[rows, 0:3] += D[leg, 3:, :3]
        M[0:3, rows] += D[leg, :3, 3:]


def derivatives(model: Model, q, qdot, act, lce, excitation, actuator_torque=None):
    """Continuous right-hand side for the smooth model (friction must be ``regularized``).

    Returns (qdot, qddot, act_dot, lce_dot), batch-last. Used by the scipy oracle tests.
    """
    if model.options.friction != "regularized" and model.options.contact:
        raise ValueError("derivatives() needs friction='regularized' (stick-slip has discrete state)")
    nb = q.shape[1]
    forces = evaluate_forces(model, q, qdot, act, lce, np.zeros((2, 2, nb)), np.zeros((2, 2, nb)))
    qddot = accelerations(model, forces, actuator_torque)
    u = np.clip(excitation, 0.01, 1.0)
    act_dot = (u - act) / model.muscles.tau_act
    return qdot, qddot, act_dot, forces.fiber_velocity
