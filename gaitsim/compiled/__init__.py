"""Compiled backend: force evaluation, equations of motion and reflex law as numba kernels.

numpy (``dynamics.evaluate_forces``, ``dynamics.accelerations``, ``ReflexController``) is the
reference; ``backend="auto"`` (the default of ``SemiImplicitEuler`` and ``ReflexController``)
takes these kernels when numba imports and numpy otherwise, so gaitsim runs without numba. This module computes the same quantities in compiled loops, following
the numpy expressions term by term and in the same summation order; the tests check agreement to
1e-9 over 0.5 s of walking (the forces agree bit for bit on the states tested). The one deliberate
difference: the equations of motion are solved with an LDL^T of the 10x10 matrix taken leaves first
along the skeleton tree over its non-zero entries (``physics._tree_elimination``) instead of numpy's
elimination by blocks (same system, rounding-level differences).

Layout: every kernel is a sequence of stages, each a loop over the batch innermost on rows that
are contiguous in the batch (the arrays are batch-last, as in the numpy code). The compiler turns
these loops into SIMD instructions across walkers (AVX2: 4 walkers per instruction). The libm
calls (exp), which it cannot vectorize, sit in loops of their own; sine and cosine are polynomials
(``gaitsim.trig``, used by numpy as well), so they vectorize. A first version looped
walker by walker (all stages for one walker, then the next); it was bound by the latency of
divisions and libm calls and was no faster than numpy at B >= 256. Division-by-zero checks are
off (``error_model="numpy"``: IEEE results, as in numpy), since they block vectorization.

Padded rows: when the batch is a multiple of 64 walkers, every row of 512 (1024, ...) walkers
is a multiple of 4096 bytes long, so the entries of one walker in all rows of an array fall into
the same L1 cache set, and a loop that reads a few dozen rows at once (the reflex law reads about
60) keeps evicting its own data. The kernels' temporaries, the force outputs and the reflex gains
therefore get ``row_length(B)`` = B + 8 columns in that case (the ``ForceState`` fields are views
of the first B columns; ``ForceState.padded`` holds the full arrays for the kernels). Measured at
B = 1024, one process: 123 -> 162-183 walker-s/s; results are bit-identical (tested).

The two integrator options of ``SemiImplicitEuler`` have kernels too: ``fiber_newton`` (the
backward-Euler fibre update; Newton iterations as the outer loop, so that each inner loop over
the batch stays vectorizable) and ``normal_contact_active_set``; its ``mechanics_substeps`` run in
one kernel call (``mechanics_substeps``).

Where it pays: everywhere. About 20x numpy for one walker (numpy's per-call overhead) and 2-4x
at B >= 256 (``benchmarks/bench_walking.py``). The kernels are serial; use worker processes
for several cores (threads inside each call lost badly whenever another process held a core).

numba is a dependency of gaitsim; ``backend="numba"`` asks for these kernels explicitly and
``backend="numpy"`` for the reference. The first call compiles the kernels (about a minute; numba
caches them on disk beside the sources, or in its user-wide cache when that folder is not
writable, or in ``NUMBA_CACHE_DIR``).

All arrays are batch-last, as in the numpy code; see ``dynamics.ForceState`` for shapes and units.
"""

from ._numba import BACKEND_CHOICES, BACKENDS, available, check_backend, kernels_cached, require, resolve_backend
from .contact_set import normal_contact_active_set
from .fibers import fiber_newton
from .physics import accelerations, evaluate_forces
from .reflex import reflex_excitation
from .substeps import mechanics_substeps
from .update import StepWorkspace, step_workspace, update_state, walker_health

__all__ = ["BACKENDS", "BACKEND_CHOICES", "StepWorkspace", "accelerations", "available", "check_backend",
           "evaluate_forces", "fiber_newton", "kernels_cached", "mechanics_substeps", "normal_contact_active_set",
           "reflex_excitation", "require", "resolve_backend", "step_workspace", "update_state", "walker_health"]
