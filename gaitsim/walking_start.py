"""A walking initial state: the first frame of a predicted gait, placed on the ground.

Pose and joint rates come from the first row of ``referenceCoordinates.sto`` of OpenSim's
``example2DWalking`` (opensim-core @ 0435b08, Apache-2.0; a predictive simulation of
``2D_gait.osim`` at 1.33 m/s, Falisse et al. 2019): the right leg has just struck the ground
ahead, the left leg is in late stance. Rates are the forward differences between its first
two rows (9.6 ms apart). Values in rad and rad/s, OpenSim signs.

Because gaitsim's body is a scaled copy of that model, the reference rates do not leave the
stance foot exactly at rest. ``walking_pose`` therefore sets the pelvis velocity so that the
lowest contact sphere (the stance foot) has zero velocity, and scales all rates together so
that the pelvis moves forward at the requested speed (the velocity field is linear in the rates,
so the stance foot stays at rest; a sliding stance foot at the start trips the walker).
"""

from __future__ import annotations

import numpy as np

from .model import Model
from .names import COORDINATES
from .state import initial_state, lowest_contact_height, sphere_kinematics

REFERENCE_POSE = {  # rad
    "pelvis_tilt": -0.263901172, "lumbar": 0.167890235,
    "hip_flexion_r": 0.664226832, "knee_angle_r": -0.184426289, "ankle_angle_r": 0.241505399,
    "hip_flexion_l": 0.016469227, "knee_angle_l": -0.283287738, "ankle_angle_l": 0.100897108,
}
REFERENCE_RATES = {  # rad/s
    "pelvis_tilt": 0.0692, "lumbar": 0.1763,
    "hip_flexion_r": -0.8819, "knee_angle_r": 1.1014, "ankle_angle_r": -0.8157,
    "hip_flexion_l": -0.1704, "knee_angle_l": -2.7177, "ankle_angle_l": -2.1840,
}


def walking_pose(model: Model, speed=1.3, pose_offsets=None):
    """Batch-first (q, qdot), each (B, 10): the reference frame with optional per-walker offsets.

    speed: forward pelvis speed (m/s), scalar or (B,). pose_offsets: {coordinate: (B,) rad}
    added to the reference pose. The lowest contact sphere is placed on the ground and is at
    rest (module docstring).
    """
    b = model.batch_size
    q = np.zeros((b, len(COORDINATES)))
    qd = np.zeros((b, len(COORDINATES)))
    for name, v in REFERENCE_POSE.items():
        q[:, COORDINATES.index(name)] = v
    for name, v in REFERENCE_RATES.items():
        qd[:, COORDINATES.index(name)] = v
    for name, v in (pose_offsets or {}).items():
        q[:, COORDINATES.index(name)] += v
    q[:, 1] = 1.0
    q[:, 1] += -lowest_contact_height(model, q)
    # pelvis velocity that keeps the lowest sphere at rest, then a common scale for the speed
    pos, vel = sphere_kinematics(model, q.T, qd.T)
    bottom = (pos[1] - model.contact.radius).reshape(4, b)
    lowest = bottom.argmin(axis=0)
    v_rot = vel.reshape(2, 4, b)[:, lowest, np.arange(b)]  # (xy, B): rotational part (pelvis at rest)
    qd[:, 0] = -v_rot[0]
    qd[:, 1] = -v_rot[1]
    if np.any(qd[:, 0] <= 0.05):
        raise ValueError("walking_pose: the pose offsets leave the stance foot ahead of the pelvis motion: the pelvis would not move forward")
    qd *= (np.asarray(speed, dtype=float) / qd[:, 0])[:, None]
    return q, qd


def walking_state(model: Model, speed=1.3, pose_offsets=None, activation=0.01) -> np.ndarray:
    """Batch-first full initial state for walking (see ``walking_pose``)."""
    q, qd = walking_pose(model, speed, pose_offsets)
    return initial_state(model, q, qd, activation=activation)
