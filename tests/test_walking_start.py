"""walking_start: the reference frame placed on the ground with its stance foot at rest."""

import numpy as np
import pytest

import gaitsim as gs
from gaitsim.state import lowest_contact_height, sphere_kinematics
from gaitsim.walking_start import walking_pose


@pytest.mark.parametrize("speed", [1.0, 1.3, 1.6])
def test_stance_foot_at_rest_and_speed_as_asked(speed):
    model = gs.build_model(batch_size=2, body_mass=[65.0, 80.0])
    q, qd = walking_pose(model, speed=speed)
    np.testing.assert_allclose(lowest_contact_height(model, q), 0.0, atol=1e-12)
    np.testing.assert_allclose(qd[:, 0], speed)
    pos, vel = sphere_kinematics(model, q.T, qd.T)
    bottom = (pos[1] - model.contact.radius).reshape(4, 2)
    lowest = bottom.argmin(axis=0)
    v = vel.reshape(2, 4, 2)[:, lowest, np.arange(2)]
    np.testing.assert_allclose(v, 0.0, atol=1e-9)


def test_offsets_that_stop_the_pelvis_are_refused():
    with pytest.raises(ValueError, match="would not move forward"):
        walking_pose(gs.build_model(), pose_offsets={"hip_flexion_l": 2.5, "hip_flexion_r": -2.5})
