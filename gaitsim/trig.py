"""Sine and cosine together, as a polynomial the compiler can vectorize.

The skeleton's mass matrix and the muscles' moment arms need cos and sin of 18 angles per walker
and force evaluation; as libm calls these cannot be vectorized across walkers and were about 30 %
of a compiled step (42 pairs per 0.5-ms step with 4 mechanics sub-steps: 1.26 us per walker,
``benchmarks/bench_walking.py``'s profile). ``sin_cos`` is written with array operations only, so
the compiled kernels (``gaitsim.compiled``) run the same arithmetic per element, vectorized, and
the numpy reference gives the same numbers: both backends call it in the same places.

Method (the textbook one; constants from fdlibm 5.3, Sun Microsystems 1993): reduce
``x = k pi/2 + r`` with ``|r| <= pi/4`` by Cody-Waite with a two-part pi/2 (``e_rem_pio2.c``:
``pio2_1`` has 33 significant bits, so ``k pio2_1`` is exact for ``|k| < 2**20``, ``|x|`` below
about 1.6e6 rad), then the minimax polynomials of ``k_sin.c`` and ``k_cos.c`` on ``r`` and the
quadrant's swap and signs. Accurate to a few units in the last place against libm over the angles
a walker reaches (``tests/test_trig.py``); beyond ``|x| ~ 1.6e6`` the reduction loses digits, and
above about 1e150 (a state that has long diverged) the polynomials overflow and give NaN, where
libm would still return a number in [-1, 1].
"""

from __future__ import annotations

import numpy as np

INV_PIO2 = 6.36619772367581382433e-01  # 2 / pi
PIO2_1 = 1.57079632673412561417e+00  # pi/2, first 33 bits (fdlibm e_rem_pio2.c pio2_1)
PIO2_1T = 6.07710050650619224932e-11  # pi/2 - PIO2_1 (pio2_1t)
# k_sin.c: sin(r) ~ r + r^3 (S1 + r^2 S2 + ... + r^10 S6) on |r| <= pi/4
S1, S2, S3 = -1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04
S4, S5, S6 = 2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10
# k_cos.c: cos(r) ~ 1 - r^2/2 + r^4 (C1 + r^2 C2 + ... + r^10 C6) on |r| <= pi/4
C1, C2, C3 = 4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05
C4, C5, C6 = -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11


def sin_cos(x):
    """``(sin x, cos x)`` of an array (rad), elementwise; see the module docstring. The compiled
    twin (``gaitsim.compiled.physics._sin_cos``) performs the same operations in the same order."""
    x = np.asarray(x, dtype=float)
    k = np.floor(x * INV_PIO2 + 0.5)  # nearest multiple of pi/2
    r = (x - k * PIO2_1) - k * PIO2_1T
    z = r * r
    with np.errstate(over="ignore"):  # |x| > ~1e150 only: NaN out (module docstring)
        s = r + (z * r) * (S1 + z * (S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)))))
        c = 1.0 - (0.5 * z - (z * z) * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6))))))
    n = k - 4.0 * np.floor(0.25 * k)  # quadrant, 0..3
    odd = (n == 1.0) | (n == 3.0)
    sin = np.where(odd, c, s)
    cos = np.where(odd, s, c)
    sin = np.where(n >= 2.0, -sin, sin)
    cos = np.where((n == 1.0) | (n == 2.0), -cos, cos)
    return sin, cos
