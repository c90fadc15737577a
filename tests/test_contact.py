"""Contact law values and stick-slip transitions."""

import numpy as np
import pytest

import gaitsim as gs
from gaitsim import contact


def _cp(**kw):
    m = gs.build_model(parameters=kw)
    return m.contact


def test_normal_force_law():
    cp = _cp()
    k, v = cp.normal_stiffness[0], cp.normal_damping_velocity[0]
    bw = 75.0 * 9.80665
    assert k == pytest.approx(bw / 0.01)  # BW per cm of compression
    assert v == pytest.approx(1.0 / 3.0)  # 2D_gait.osim's Hunt-Crossley dissipation 2 s/m: 1 / (1.5 x 2)
    r = 0.03
    fn, cn = contact.normal_force(np.array([r - 0.002]), np.array([0.0]), r, cp)
    assert fn[0] == pytest.approx(k * 0.002)
    fn, cn = contact.normal_force(np.array([r - 0.002]), np.array([-0.01]), r, cp)  # sinking adds damping
    assert fn[0] == pytest.approx(k * 0.002 * (1 + 0.01 / v))
    assert cn[0] == pytest.approx(k * 0.002 / v)
    fn, _ = contact.normal_force(np.array([r - 0.002]), np.array([1.5 * v]), r, cp)  # lift-off faster than v_n: never pulls
    assert fn[0] == 0.0
    fn, _ = contact.normal_force(np.array([r + 0.001]), np.array([-1.0]), r, cp)  # airborne
    assert fn[0] == 0.0


def test_stick_then_slip_then_stick():
    cp = _cp()
    fn = np.array([500.0])
    anchor = np.array([0.0])
    # touchdown anchors under the sphere and sticks
    ft, ct, anchor, mode = contact.friction_force(np.array([0.1]), np.array([0.0]), fn, anchor,
                                                  np.array([contact.MODE_AIR]), cp, "stick_slip")
    assert mode[0] == contact.MODE_STICK and anchor[0] == 0.1 and ft[0] == 0.0
    # small displacement: spring force, still sticking
    ft, ct, anchor, mode = contact.friction_force(np.array([0.101]), np.array([0.0]), fn, anchor, mode, cp,
                                                  "stick_slip")
    assert mode[0] == contact.MODE_STICK and ft[0] == pytest.approx(-cp.tangential_stiffness[0] * 0.001)
    # large displacement exceeds mu_stick F_n: slides, force = -mu_slide F_n
    ft, ct, anchor, mode = contact.friction_force(np.array([0.2]), np.array([0.5]), fn, anchor, mode, cp,
                                                  "stick_slip")
    assert mode[0] == contact.MODE_SLIP_FWD and ft[0] == pytest.approx(-0.8 * 500.0) and ct[0] == 0.0
    # velocity reverses: sticks again, re-anchored where it is
    ft, ct, anchor, mode = contact.friction_force(np.array([0.21]), np.array([-0.02]), fn, anchor, mode, cp,
                                                  "stick_slip")
    assert mode[0] == contact.MODE_STICK and anchor[0] == 0.21


def test_regularized_friction_is_smooth_and_bounded():
    cp = _cp()
    v = np.linspace(-1, 1, 201)
    ft, ct, _, _ = contact.friction_force(np.zeros_like(v), v, np.full_like(v, 100.0), np.zeros_like(v),
                                          np.zeros_like(v), cp, "regularized")
    assert np.all(np.abs(ft) <= 0.8 * 100.0 + 1e-12)
    assert np.all(np.diff(ft) <= 0)  # opposes the sliding velocity monotonically
    assert np.all(ct >= 0)
