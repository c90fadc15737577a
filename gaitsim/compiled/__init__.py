"""Optional compiled backend: force evaluation, equations of motion and reflex law as numba kernels.

numpy (``dynamics.evaluate_forces``, ``dynamics.accelerations``, ``ReflexController``) is the
reference and the default. This module computes the same quantities walker by walker in
compiled loops, following the numpy expressions term by term and in the same summation order;
the tests check agreement to 1e-9 (the forces agree bit for bit on the states tested). The
one deliberate difference: the equations of motion are solved with a dense LDL^T of the
10x10 matrix instead of the block-tree elimination (same system, rounding-level differences).

Where it pays: small batches, where numpy's per-call overhead dominates (a single walker runs
several times faster). At large batches it is about as fast as numpy: the scalar loop is
bound by division and exp/sin/cos latency, while numpy applies SIMD across walkers
(benchmarks/bench_walking.py measures both). The kernels are serial; use worker processes
for several cores (threads inside each call lost badly whenever another process held a core).

Install the extra (``pip install "gaitsim[fast]"``) and select it with
``simulate(..., solver=SemiImplicitEuler(backend="numba"))`` and
``ReflexController(..., backend="numba")`` (or ``tuned.walker_from_solutions(..., backend=)``).
The first call compiles the kernels (about 30 s; cached on disk afterwards).

All arrays are batch-last, as in the numpy code; see ``dynamics.ForceState`` for shapes and units.
"""

from ._numba import BACKENDS, available, check_backend, require
from .physics import accelerations, evaluate_forces
from .reflex import reflex_excitation
from .update import update_state

__all__ = ["BACKENDS", "accelerations", "available", "check_backend", "evaluate_forces", "reflex_excitation",
           "require", "update_state"]
