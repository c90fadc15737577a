"""state: layout, initial states and the standing pose."""

import numpy as np
import pytest

import gaitsim as gs
from gaitsim.state import (MAX_SPEED, StateLayout, center_of_mass, lowest_contact_height, sphere_kinematics,
                           standing_pose)


def test_layout_blocks_tile_the_state():
    layout = StateLayout(5)
    blocks = sorted(layout.blocks.values(), key=lambda s: s.start)
    assert blocks[0].start == 0 and blocks[-1].stop == layout.size
    assert all(a.stop == b.start for a, b in zip(blocks, blocks[1:]))
    assert len(layout.names()) == layout.size and MAX_SPEED > 0


def test_standing_pose_rests_on_the_ground_with_the_mass_over_the_feet():
    model = gs.build_model(batch_size=2, body_mass=[60.0, 90.0])
    q = standing_pose(model)  # (B, 10)
    np.testing.assert_allclose(lowest_contact_height(model, q), 0.0, atol=1e-9)
    x0 = gs.initial_state(model, q)
    assert x0.shape == (2, StateLayout(0).size) and np.all(np.isfinite(x0))
    pos, _ = sphere_kinematics(model, q.T)  # (xy, 2 legs, 2 spheres, B)
    mid_foot = pos[0].reshape(4, 2).mean(axis=0)
    np.testing.assert_allclose(center_of_mass(model, q)[:, 0], mid_foot, atol=1e-6)  # the pose's definition


def test_bad_pose_is_refused():
    with pytest.raises(ValueError):
        gs.initial_state(gs.build_model(), {"no_such_coordinate": 0.1})
