"""Build a batched model: validated parameters plus the constant arrays the physics uses.

``build_model`` is the one entry point. Every parameter can be set or scaled per walker::

    m = build_model(batch_size=3,
                    body_mass=[60.0, 75.0, 90.0],
                    scale={"muscle.tendon_slack_length.soleus_*": 0.9},
                    parameters={"contact.slide_friction": 0.6})

``Model.params`` keeps the batch-first table (what users read and override); the other
fields hold the same numbers batch-last, ``(n_elements, B)``, for the hot path.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from . import anthropometry, contact, joint_limits, muscle_table
from ._fixed import gather_sum, padded_index
from .muscle_table import PAIR_NAMES, PAIRS
from .names import COORDINATES, MUSCLES, N_COORDINATES, N_MUSCLES
from .params import ParamSpec, ParamTable, apply_changes, validate
from .skeleton import SkeletonConstants, skeleton_constants
from .trig import sin_cos

MUSCLE_SPECS = {
    "muscle.max_isometric_force": ParamSpec(MUSCLES, "N", 0.0, 1e5, "F_max (muscle_table sources)", strict_low=True),
    "muscle.optimal_fiber_length": ParamSpec(MUSCLES, "m", 0.0, 2.0, "l_opt (muscle_table sources)", strict_low=True),
    "muscle.tendon_slack_length": ParamSpec(MUSCLES, "m", 0.0, 2.0, "l_slack (muscle_table sources)",
                                            strict_low=True),
    "muscle.max_contraction_velocity": ParamSpec(MUSCLES, "l_opt/s", 0.0, 100.0, "v_max [GH]", strict_low=True),
    "muscle.tendon_reference_strain": ParamSpec(MUSCLES, "-", 0.0, 1.0, "tendon strain at F_max, 0.04 [GH]",
                                                strict_low=True),
    "muscle.passive_stiffness": ParamSpec(MUSCLES, "-", 0.0, 1e3, "factor on the parallel elastic force, 1 [GH]"),
    "muscle.activation_time_constant": ParamSpec(MUSCLES, "s", 0.0, 1.0, "tau = 10 ms [GH]", strict_low=True),
    "path.reference_length": ParamSpec(MUSCLES, "m", 0.0, 3.0, "path length at the reference posture [GH]",
                                       strict_low=True),
    "path.moment_arm": ParamSpec(PAIR_NAMES, "m", -0.5, 0.5, "signed moment arm amplitude (muscle_table)"),
    "path.angle_at_max_arm": ParamSpec(PAIR_NAMES, "rad", -2 * np.pi, 2 * np.pi, "q where |arm| peaks [GH]"),
    "path.reference_angle": ParamSpec(PAIR_NAMES, "rad", -2 * np.pi, 2 * np.pi, "reference posture angle [GH]"),
}

ALL_SPECS: dict[str, ParamSpec] = {
    **anthropometry.SUBJECT_SPECS,
    **anthropometry.BODY_SPECS,
    **MUSCLE_SPECS,
    **contact.CONTACT_SPECS,
    **joint_limits.LIMIT_SPECS,
}

#: selection matrices (constants): coordinate of each path pair, muscle of each pair
PAIR_COORD = np.zeros((len(PAIRS), N_COORDINATES))
MUSCLE_PAIR = np.zeros((N_MUSCLES, len(PAIRS)))
for _i, (_m, _c, *_rest) in enumerate(PAIRS):
    PAIR_COORD[_i, COORDINATES.index(_c)] = 1.0
    MUSCLE_PAIR[MUSCLES.index(_m), _i] = 1.0
PAIR_IS_COSINE = np.array([p[2] for p in PAIRS])[:, None]
#: the same selections as index tables, for fixed-order gathers on the hot path (see ``_fixed``)
PAIR_COORD_INDEX = PAIR_COORD.argmax(axis=1)
PAIR_MUSCLE_INDEX = MUSCLE_PAIR.argmax(axis=0)
MUSCLE_PAIRS = padded_index([list(np.flatnonzero(row)) for row in MUSCLE_PAIR], pad=len(PAIRS))
COORD_PAIRS = padded_index([list(np.flatnonzero(col)) or [len(PAIRS)] for col in PAIR_COORD.T], pad=len(PAIRS))


def path_geometry(paths: "PathArrays", q: np.ndarray):
    """Musculotendon lengths (n_muscles, B) and pair moment arms (P, B) for coordinates q (10, B)."""
    from .muscles import path_lengths_and_arms

    sq, cq = sin_cos(q)  # gaitsim.trig: the compiled kernels compute the same numbers
    dl, arms = path_lengths_and_arms(q[PAIR_COORD_INDEX], cq[PAIR_COORD_INDEX], sq[PAIR_COORD_INDEX], paths)
    return paths.l_ref + gather_sum(dl, MUSCLE_PAIRS), arms


def muscle_generalized_forces(arms: np.ndarray, force: np.ndarray) -> np.ndarray:
    """Generalized forces (10, B) of tendon forces (n_muscles, B) acting through pair moment arms (P, B)."""
    return gather_sum(arms * force[PAIR_MUSCLE_INDEX], COORD_PAIRS)


@dataclass(frozen=True)
class MuscleArrays:
    """Batch-last muscle parameters, each (n_muscles, B).

    Derived once from them (not arguments; ``dataclasses.replace`` recomputes them): ``inv_l_opt``
    (1/m), ``inv_l_slack`` (1/m), ``inv_ref_strain`` (-) and ``tendon_stiffness`` (N/m,
    ``muscles.tendon_stiffness``). The fibre dynamics multiply by these instead of dividing by the
    parameters, in both backends (``muscles.fiber_dynamics``)."""

    f_max: np.ndarray
    l_opt: np.ndarray
    l_slack: np.ndarray
    v_max: np.ndarray
    ref_strain: np.ndarray
    pe_factor: np.ndarray
    tau_act: np.ndarray
    inv_l_opt: np.ndarray = field(init=False, repr=False, compare=False)
    inv_l_slack: np.ndarray = field(init=False, repr=False, compare=False)
    inv_ref_strain: np.ndarray = field(init=False, repr=False, compare=False)
    tendon_stiffness: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        from .muscles import tendon_stiffness

        derived = {"inv_l_opt": 1.0 / self.l_opt, "inv_l_slack": 1.0 / self.l_slack,
                   "inv_ref_strain": 1.0 / self.ref_strain,
                   "tendon_stiffness": tendon_stiffness(self.f_max, self.l_slack, self.ref_strain)}
        for name, value in derived.items():
            object.__setattr__(self, name, value)


@dataclass(frozen=True)
class PathArrays:
    """Batch-last path geometry: per pair (P, B) and per muscle (n_muscles, B).

    The parameters are ``r0`` (m), ``q_max``, ``q_ref`` (rad), ``is_cosine`` (P, 1) and ``l_ref``
    (m). ``arm_cos``, ``arm_sin``, ``arm_const`` and ``length_const`` (m) are derived from them
    once (``PathArrays.build``) so that the hot path needs no trigonometry per pair:
    ``r0 cos(q - q_max) = arm_cos cos q + arm_sin sin q`` (see ``muscles.path_lengths_and_arms``).
    """

    r0: np.ndarray
    q_max: np.ndarray
    q_ref: np.ndarray
    is_cosine: np.ndarray
    l_ref: np.ndarray
    arm_cos: np.ndarray
    arm_sin: np.ndarray
    arm_const: np.ndarray
    length_const: np.ndarray

    @classmethod
    def build(cls, r0, q_max, q_ref, is_cosine, l_ref) -> "PathArrays":
        cos_pair = np.asarray(is_cosine, bool).reshape(-1, 1)
        arm_cos = np.where(cos_pair, r0 * np.cos(q_max), 0.0)
        arm_sin = np.where(cos_pair, r0 * np.sin(q_max), 0.0)
        arm_const = np.where(cos_pair, 0.0, r0)
        # r0 * (the integral's value at q_ref): sin(q_ref - q_max) (cosine pairs) or q_ref (constant)
        length_const = r0 * np.where(cos_pair, np.sin(q_ref - q_max), q_ref)
        return cls(r0, q_max, q_ref, cos_pair, l_ref, arm_cos, arm_sin, arm_const, length_const)


@dataclass(frozen=True)
class ContactArrays:
    """Batch-last contact parameters: spheres (2 legs, 2 spheres, B); law constants (B,)."""

    sphere_x: np.ndarray
    sphere_y: np.ndarray
    radius: np.ndarray
    normal_stiffness: np.ndarray
    normal_damping_velocity: np.ndarray
    tangential_stiffness: np.ndarray
    tangential_damping_velocity: np.ndarray
    stick_friction: np.ndarray
    slide_friction: np.ndarray
    stick_velocity: np.ndarray
    regularization_velocity: np.ndarray


@dataclass(frozen=True)
class LimitArrays:
    lower: np.ndarray  # (7, B) rad
    upper: np.ndarray  # (7, B) rad
    stiffness: np.ndarray  # (B,) N m/rad
    w_max: np.ndarray  # (B,) rad/s


@dataclass(frozen=True)
class ModelOptions:
    """Switches: which force elements are on, and the friction model."""

    muscles: bool = True
    contact: bool = True
    joint_limits: bool = True
    friction: str = "stick_slip"


@dataclass(frozen=True)
class Model:
    """A batch of B walkers: parameters (batch-first table) and physics constants (batch-last)."""

    params: ParamTable
    skeleton: SkeletonConstants
    muscles: MuscleArrays
    paths: PathArrays
    contact: ContactArrays
    limits: LimitArrays
    options: ModelOptions

    @property
    def batch_size(self) -> int:
        return self.params.batch_size

    @property
    def body_weight(self) -> np.ndarray:
        """(B,) N."""
        return self.skeleton.mass_total * self.skeleton.gravity


def _infer_batch(batch_size, body_mass, height, changes: Mapping[str, object]) -> int:
    """The batch size the inputs imply; ValueError naming the inputs whose sizes disagree."""
    sizes: dict[int, list[str]] = {}  # batch size -> the inputs that imply it
    if batch_size is not None:
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        sizes.setdefault(int(batch_size), []).append("batch_size")
    for name, v in (("subject.body_mass", body_mass), ("subject.height", height)):
        a = np.asarray(v, dtype=float)
        if a.ndim > 1:
            raise ValueError(f"{name}: expected a scalar or a (B,) array, got shape {a.shape}")
        if a.ndim == 1:
            sizes.setdefault(a.shape[0], []).append(name)
    for key, v in changes.items():
        a = np.asarray(v)
        field = ".".join(key.split(".")[:2])
        spec = ALL_SPECS.get(field)
        if spec is None:
            raise ValueError(f"unknown parameter {key!r}; known fields: {', '.join(sorted(ALL_SPECS))}")
        per_element_row = spec.elements is not None and key.count(".") == 1
        if a.ndim == 2 or (a.ndim == 1 and not per_element_row):
            sizes.setdefault(a.shape[0], []).append(key)
    if len(sizes) > 1:
        parts = "; ".join(f"{n} from {', '.join(names)}" for n, names in sorted(sizes.items()))
        raise ValueError(f"inconsistent batch sizes: {parts} (every per-walker input must have the same length)")
    return next(iter(sizes)) if sizes else 1


def build_model(
    batch_size: int | None = None,
    *,
    body_mass=75.0,
    height=1.75,
    parameters: Mapping[str, object] | None = None,
    scale: Mapping[str, object] | None = None,
    muscles: bool = True,
    contact: bool = True,
    joint_limits: bool = True,
    friction: str = "stick_slip",
    **renamed,
) -> Model:
    """Build a batch of walkers.

    batch_size: number of walkers B (inferred from per-walker inputs if omitted).
    body_mass (kg), height (m): scalars or (B,) arrays; defaults 75 kg, 1.75 m.
    parameters / scale: ``{"group.field[.element-glob]": value}``; ``scale`` multiplies the
    default, ``parameters`` replaces it (applied after ``scale``). Values broadcast over
    walkers/elements. (``set=``, the former name of ``parameters``, still works and warns.)
    muscles, contact, joint_limits: switch those force elements off (e.g. for energy tests).
    friction: ``"stick_slip"`` (default) or ``"regularized"``.
    Raises ``ValueError`` naming the field and the allowed range on bad input.
    """
    if "set" in renamed:
        if parameters is not None:
            raise TypeError("build_model: give parameters= only (set= is its former name)")
        warnings.warn("build_model(set=...) is deprecated; use parameters=...", DeprecationWarning, stacklevel=2)
        parameters = renamed.pop("set")
    if renamed:
        raise TypeError(f"build_model() got unexpected keyword arguments {sorted(renamed)}")
    parameters = dict(parameters or {})
    scale = dict(scale or {})
    if friction not in contact_module.FRICTION_MODELS:
        raise ValueError(f"friction must be one of {contact_module.FRICTION_MODELS}, got {friction!r}")
    b = _infer_batch(batch_size, body_mass, height, {**parameters, **scale})
    subject = {}
    for key, v in (("subject.body_mass", body_mass), ("subject.height", height)):
        a = np.asarray(v, dtype=float)
        arr = np.broadcast_to(a, (b,)).copy() if a.ndim == 0 or a.shape == (b,) else None
        if arr is None:
            raise ValueError(f"{key}: shape {a.shape} does not match the batch size {b}")
        validate(key, ALL_SPECS[key], arr)
        subject[key] = arr
    mass, hgt = subject["subject.body_mass"], subject["subject.height"]
    values: dict[str, np.ndarray] = dict(subject)
    values.update(anthropometry.body_defaults(mass, hgt))
    leg = -values["body.joint_y"][:, 2] - values["body.joint_y"][:, 3]  # thigh + shank length (m)
    values.update(muscle_table.muscle_defaults(mass, leg))
    values.update(contact_module.contact_defaults(mass * 9.80665))
    sx, sy, rad = anthropometry.sphere_defaults(hgt)
    values.update({"contact.sphere_x": sx, "contact.sphere_y": sy, "contact.sphere_radius": rad})
    values.update(joint_limits_module.limit_defaults(b))
    for k in list(values):
        values[k] = np.broadcast_to(values[k], (b,) + np.shape(values[k])[1:]).copy()
    apply_changes(ALL_SPECS, values, scale, mode="scale")
    apply_changes(ALL_SPECS, values, parameters, mode="set")
    table = ParamTable(ALL_SPECS, values)
    _check_consistency(table)
    return _assemble(table, ModelOptions(muscles, contact, joint_limits, friction))


# the keyword arguments shadow these module names inside build_model
contact_module = contact
joint_limits_module = joint_limits


def _check_consistency(t: ParamTable) -> None:
    lo, hi = t["limits.lower"], t["limits.upper"]
    if np.any(lo >= hi):
        i = np.argwhere(lo >= hi)[0]
        raise ValueError(
            f"limits.lower.{joint_limits.LIMITED[i[1]]} must be below limits.upper "
            f"(got {lo[tuple(i)]:g} >= {hi[tuple(i)]:g} rad)")


def _assemble(t: ParamTable, options: ModelOptions) -> Model:
    T = lambda key: np.ascontiguousarray(t[key].T)  # noqa: E731  batch-first -> batch-last
    sk = skeleton_constants(t["body.segment_mass"], t["body.segment_com_x"], t["body.segment_com_y"],
                            t["body.segment_inertia"], t["body.joint_x"], t["body.joint_y"], t["body.gravity"])
    mus = MuscleArrays(
        f_max=T("muscle.max_isometric_force"), l_opt=T("muscle.optimal_fiber_length"),
        l_slack=T("muscle.tendon_slack_length"), v_max=T("muscle.max_contraction_velocity"),
        ref_strain=T("muscle.tendon_reference_strain"), pe_factor=T("muscle.passive_stiffness"),
        tau_act=T("muscle.activation_time_constant"))
    paths = PathArrays.build(r0=T("path.moment_arm"), q_max=T("path.angle_at_max_arm"),
                             q_ref=T("path.reference_angle"), is_cosine=PAIR_IS_COSINE,
                             l_ref=T("path.reference_length"))

    def legs(key):  # (B, 4) in CONTACT_SPHERES order -> (2 legs, 2 spheres, B)
        return np.ascontiguousarray(t[key].T.reshape(2, 2, -1))

    con = ContactArrays(
        sphere_x=legs("contact.sphere_x"), sphere_y=legs("contact.sphere_y"), radius=legs("contact.sphere_radius"),
        **{f: t[f"contact.{f}"].copy() for f in (
            "normal_stiffness", "normal_damping_velocity", "tangential_stiffness", "tangential_damping_velocity",
            "stick_friction", "slide_friction", "stick_velocity", "regularization_velocity")})
    lim = LimitArrays(lower=T("limits.lower"), upper=T("limits.upper"), stiffness=t["limits.stiffness"].copy(),
                      w_max=t["limits.damping_velocity"].copy())
    return Model(t, sk, mus, paths, con, lim, options)


def select_walkers(model: Model, index) -> Model:
    """A model made of a subset of walkers (``index``: int, slice or index array)."""
    idx = np.atleast_1d(np.arange(model.batch_size)[index])
    table = ParamTable(model.params.specs, {k: v[idx] for k, v in model.params.values.items()})
    return _assemble(table, model.options)


def stack_models(models) -> Model:
    """One batch of the walkers of several models, in order (all built with the same options):
    the parameter tables are concatenated along the batch axis, so walker i of the result has
    exactly the parameters it had in its own model."""
    models = list(models)
    if not models:
        raise ValueError("stack_models: no models given")
    options = {m.options for m in models}
    if len(options) != 1:
        raise ValueError("stack_models: the models differ in their options (muscles, contact, joint limits, friction)")
    first = models[0].params
    table = ParamTable(first.specs, {k: np.concatenate([m.params.values[k] for m in models]) for k in first.values})
    return _assemble(table, models[0].options)

