"""The records the compiled kernels take: named groups of batch-last arrays, built in one place.

A kernel reads the model through a ``ModelRecord`` (skeleton, muscle paths, muscles, contact,
joint limits), the state through a ``StateRecord`` and writes its forces into ``ForceArrays``
(the fields of ``dynamics.ForceState``); every record is assembled here by field name from the
model's arrays (``model_record``), so a kernel that changes changes its record, and no caller
matches argument positions by hand.

Records cross from Python into a kernel as plain tuples (``plain``) and the kernel names them
again on entry (``named_model``, ``ForceArrays(*forces)``, ...): numba types a plain tuple of
arrays in its compiled dispatcher, a NamedTuple field by field in Python, which costs about
0.15 us per array and call (the force kernel's 80 arrays: a fifth of a one-walker step).
"""

from __future__ import annotations

from dataclasses import fields
from typing import NamedTuple

import numpy as np

from ..dynamics import ForceState
from ..model import COORD_PAIRS, MUSCLE_PAIRS, PAIR_COORD_INDEX, PAIR_MUSCLE_INDEX, Model
from ..skeleton import BIAS_TERMS, PAIR_J, PAIR_K
from ._numba import njit, numba


class SkeletonRecord(NamedTuple):
    """The skeleton as the force kernel reads it (``skeleton.SkeletonConstants`` and its index tables)."""

    mass_total: np.ndarray  # (B,) kg
    w: np.ndarray  # (2 xy, 8 bodies, B) kg m: subtree mass moments
    A_pair: np.ndarray  # (n_pairs, B) kg m^2: mass-matrix constants of the ancestor pairs
    B_pair: np.ndarray  # (n_pairs, B) kg m^2
    A_diag: np.ndarray  # (8, B) kg m^2
    leg_links: np.ndarray  # (3 links, 2 xy, 2 legs, B) m: hip, knee and ankle offsets
    gravity: np.ndarray  # (B,) m/s^2
    pair_j: np.ndarray  # (n_pairs,) intp: the ancestor body of each pair (``skeleton.PAIR_J``)
    pair_k: np.ndarray  # (n_pairs,) intp: the descendant body (``skeleton.PAIR_K``)
    bias_terms: np.ndarray  # (8, n) intp: velocity-product terms of each body (``skeleton.BIAS_TERMS``)


class PathRecord(NamedTuple):
    """Muscle paths (``model.PathArrays``) and their index tables; P muscle-coordinate pairs."""

    pair_coord: np.ndarray  # (P,) intp: coordinate of each pair
    arm_cos: np.ndarray  # (P, B) m
    arm_sin: np.ndarray  # (P, B) m
    arm_const: np.ndarray  # (P, B) m
    length_const: np.ndarray  # (P, B) m
    l_ref: np.ndarray  # (n_muscles, B) m
    muscle_pairs: np.ndarray  # (n_muscles, n) intp: pairs of each muscle, padded with P
    coord_pairs: np.ndarray  # (10, n) intp: pairs acting on each coordinate, padded with P
    pair_muscle: np.ndarray  # (P,) intp: muscle of each pair


class MuscleRecord(NamedTuple):
    """Muscle parameters (``model.MuscleArrays``), each (n_muscles, B)."""

    f_max: np.ndarray  # N
    l_opt: np.ndarray  # m
    l_slack: np.ndarray  # m
    v_max: np.ndarray  # l_opt/s
    pe_factor: np.ndarray  # -
    inv_l_opt: np.ndarray  # 1/m
    inv_l_slack: np.ndarray  # 1/m
    inv_ref_strain: np.ndarray  # -
    tendon_stiffness: np.ndarray  # N/m


class ContactRecord(NamedTuple):
    """Contact parameters (``model.ContactArrays``): spheres (2 legs, 2 spheres, B), law constants (B,)."""

    sphere_x: np.ndarray  # m
    sphere_y: np.ndarray  # m
    radius: np.ndarray  # m
    normal_stiffness: np.ndarray  # N/m
    normal_damping_velocity: np.ndarray  # m/s
    tangential_stiffness: np.ndarray  # N/m
    tangential_damping_velocity: np.ndarray  # m/s
    stick_friction: np.ndarray  # -
    slide_friction: np.ndarray  # -
    stick_velocity: np.ndarray  # m/s
    regularization_velocity: np.ndarray  # m/s


class LimitRecord(NamedTuple):
    """Joint limits (``model.LimitArrays``) of the 7 joints (``joint_limits.LIMITED``)."""

    lower: np.ndarray  # (7, B) rad
    upper: np.ndarray  # (7, B) rad
    stiffness: np.ndarray  # (B,) N m/rad
    w_max: np.ndarray  # (B,) rad/s


class ModelRecord(NamedTuple):
    """The model as the kernels read it (``model_record``)."""

    skeleton: SkeletonRecord
    paths: PathRecord
    muscles: MuscleRecord
    contact: ContactRecord
    limits: LimitRecord


class ForceSwitches(NamedTuple):
    """Which force elements a force evaluation computes (``model.ModelOptions``), and the friction law."""

    muscles: bool
    contact: bool
    joint_limits: bool
    regularized_friction: bool


class StateRecord(NamedTuple):
    """The state a force evaluation starts from (batch-last)."""

    q: np.ndarray  # (10, B) m, rad
    qdot: np.ndarray  # (10, B) m/s, rad/s
    activation: np.ndarray  # (n_muscles, B)
    fiber_length: np.ndarray  # (n_muscles, B) m
    anchor: np.ndarray  # (2 legs, 2 spheres, B) m: stiction anchors at the step's start
    mode: np.ndarray  # (2 legs, 2 spheres, B): contact modes at the step's start


class TrigRecord(NamedTuple):
    """cos and sin of the coordinates q, (10, B) each, when already known (``known``)."""

    known: bool
    cos: np.ndarray
    sin: np.ndarray


#: the force kernel's outputs: the ``dynamics.ForceState`` fields it writes (all but q, qdot and
#: padded), shapes and units as there, with padded rows (``_numba.row_length``)
ForceArrays = NamedTuple("ForceArrays", [(f.name, np.ndarray) for f in fields(ForceState)
                                         if f.name not in ("q", "qdot", "padded")])


class SolveInputs(NamedTuple):
    """What the equations of motion read of a force evaluation (``dynamics._SOLVE_FIELDS``, without q)."""

    mass_matrix: np.ndarray  # (10, 10, B)
    bias: np.ndarray  # (10, B)
    muscle_moment: np.ndarray  # (10, B) N, N m
    limit_moment: np.ndarray  # (10, B) N m
    limit_damping: np.ndarray  # (10, B) N m s/rad
    contact_jac: np.ndarray  # (2 xy, 2 legs, 2 spheres, 4 links, B) m
    fn: np.ndarray  # (2 legs, 2 spheres, B) N
    ft: np.ndarray  # (2 legs, 2 spheres, B) N
    cn: np.ndarray  # (2 legs, 2 spheres, B) N s/m
    ct: np.ndarray  # (2 legs, 2 spheres, B) N s/m


def _by_name(record_type, source, **extra):
    """A ``record_type`` whose fields are taken by name from ``extra``, else from ``source``'s attributes."""
    return record_type._make([extra[name] if name in extra else getattr(source, name)
                              for name in record_type._fields])


def model_record(model: Model) -> ModelRecord:
    """The kernels' ``ModelRecord`` of ``model`` (views of its arrays, no copies)."""
    return ModelRecord(
        skeleton=_by_name(SkeletonRecord, model.skeleton, pair_j=PAIR_J, pair_k=PAIR_K, bias_terms=BIAS_TERMS),
        paths=_by_name(PathRecord, model.paths, pair_coord=PAIR_COORD_INDEX, muscle_pairs=MUSCLE_PAIRS,
                       coord_pairs=COORD_PAIRS, pair_muscle=PAIR_MUSCLE_INDEX),
        muscles=_by_name(MuscleRecord, model.muscles),
        contact=_by_name(ContactRecord, model.contact),
        limits=_by_name(LimitRecord, model.limits))


def force_switches(model: Model, muscles: bool = True) -> ForceSwitches:
    """The ``ForceSwitches`` of ``model``; ``muscles=False`` leaves the muscles out (mechanics sub-steps)."""
    options = model.options
    return ForceSwitches(muscles=bool(options.muscles) and muscles, contact=bool(options.contact),
                         joint_limits=bool(options.joint_limits),
                         regularized_friction=options.friction == "regularized")


def solve_inputs(forces) -> tuple:
    """The ``SolveInputs`` of a ``ForceState`` or ``ForceArrays``, as a plain tuple (``plain``)."""
    return tuple([getattr(forces, name) for name in SolveInputs._fields])


def plain(record) -> tuple:
    """``record`` as a plain tuple, a ``ModelRecord`` as a tuple of plain tuples: the form in
    which a kernel takes it (module docstring)."""
    if isinstance(record, ModelRecord):
        return tuple(map(tuple, record))
    return tuple(record)


if numba is not None:

    @njit(cache=True, inline="always")
    def named_model(model):
        """The ``ModelRecord`` of its plain form (``plain(model_record(...))``), in a kernel."""
        skeleton, paths, muscles, contact, limits = model
        return ModelRecord(SkeletonRecord(*skeleton), PathRecord(*paths), MuscleRecord(*muscles),
                           ContactRecord(*contact), LimitRecord(*limits))
