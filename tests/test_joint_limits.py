"""joint_limits: the soft limit torque law and its defaults."""

import numpy as np
import pytest

from gaitsim.joint_limits import LIMITED, limit_defaults, limit_torques


def test_defaults_are_the_documented_ranges():
    d = limit_defaults(2)
    assert d["limits.lower"].shape == d["limits.upper"].shape == (2, len(LIMITED))
    knee = LIMITED.index("knee_angle_r")
    np.testing.assert_allclose(np.degrees(d["limits.lower"][0, knee]), -135.0)
    np.testing.assert_allclose(np.degrees(d["limits.upper"][0, knee]), -5.0)
    np.testing.assert_allclose(d["limits.stiffness"], 0.3 * 180.0 / np.pi)  # 0.3 N m/deg


def test_torque_pushes_out_never_pulls_and_damps_the_inward_motion():
    k, w = np.array([10.0]), np.array([0.5])
    lower, upper = np.full((7, 1), -1.0), np.full((7, 1), 1.0)
    q = np.array([[-1.1], [1.2], [0.0], [-1.1], [1.1], [1.1], [-1.1]])
    qdot = np.array([[0.0], [0.0], [0.0], [-0.25], [0.25], [-1.0], [1.0]])
    tau, damp = limit_torques(q, qdot, lower, upper, k, w)
    assert tau[0, 0] == pytest.approx(10.0 * 0.1)  # below the lower limit, at rest: k p, outwards (+)
    assert tau[1, 0] == pytest.approx(-10.0 * 0.2)  # above the upper limit: pushes down
    assert tau[2, 0] == 0.0 and damp[2, 0] == 0.0  # inside the range
    assert tau[3, 0] == pytest.approx(10.0 * 0.1 * 1.5) and damp[3, 0] == pytest.approx(10.0 * 0.1 / 0.5)
    assert tau[4, 0] == pytest.approx(-10.0 * 0.1 * 1.5)
    assert tau[5, 0] == 0.0 and damp[5, 0] == 0.0  # leaving the upper limit faster than w_max: no pull
    assert tau[6, 0] == 0.0 and damp[6, 0] == 0.0
