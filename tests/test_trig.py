"""``gaitsim.trig.sin_cos``: the polynomial sine and cosine both backends use."""

import math

import numpy as np

from gaitsim.trig import sin_cos


def _angles():
    rng = np.random.default_rng(0)
    dense = np.linspace(-30.0, 30.0, 600_001)  # rad: far beyond any joint or segment angle of a walker
    wide = rng.uniform(-1e4, 1e4, 50_000)  # a spinning pelvis of a fallen walker
    special = np.array([0.0, 1e-300, 1e-8, math.pi / 4, math.pi / 2, math.pi, 3 * math.pi / 2, -math.pi])
    return np.concatenate([dense, wide, special])


def test_sin_cos_agree_with_libm_to_about_one_unit_in_the_last_place():
    x = _angles()
    s, c = sin_cos(x)
    pick = np.random.default_rng(1).choice(x.size, 100_000, replace=False)
    ref_s = np.array([math.sin(v) for v in x[pick]])
    ref_c = np.array([math.cos(v) for v in x[pick]])
    for got, ref in ((s[pick], ref_s), (c[pick], ref_c)):
        err = np.abs(got - ref)
        assert err.max() <= 2.3e-16  # about one unit in the last place of 1
        big = np.abs(ref) > 1e-3
        assert (err[big] / np.spacing(np.abs(ref[big]))).max() <= 2.0
    np.testing.assert_allclose(s * s + c * c, 1.0, rtol=0, atol=5e-16)
    assert np.array_equal(sin_cos(np.array([0.0]))[1], [1.0])


def test_sin_cos_keep_the_shape_and_pass_non_finite_values_on():
    x = np.zeros((3, 4, 5))
    s, c = sin_cos(x)
    assert s.shape == c.shape == (3, 4, 5)
    with np.errstate(invalid="ignore"):
        s, c = sin_cos(np.array([np.nan, np.inf, -np.inf]))
    assert np.isnan(s).all() and np.isnan(c).all()
