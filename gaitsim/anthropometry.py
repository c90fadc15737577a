"""Segment inertial parameters and joint geometry, scaled from body mass and height.

Source: OpenSim ``2D_gait.osim`` (opensim-core @ 0435b08,
``OpenSim/Examples/Moco/example2DWalking``, Apache-2.0; Falisse et al. 2019 PLOS ONE),
itself a scaled version of the gait2392/gait10dof18musc generic model (Delp et al.
1990; Anderson & Pandy 1999). Its bodies total 62.0 kg. Talus, calcaneus and toes,
welded together in that model, are lumped into one rigid foot (mass, centre of mass
and z-inertia combined with the parallel-axis theorem; see ``_REF`` below).

Scaling to a user's body: masses scale with ``body_mass / 62.0 kg``, lengths with
``height / REFERENCE_HEIGHT``, z-inertias with mass x length^2. The reference
height is derived: the model's standing hip-joint height above the floor is
0.8755 m (hip-knee 0.3969 m + knee-ankle 0.4157 m + ankle-to-heel-sphere-bottom
0.0629 m), and hip (greater trochanter) height is 0.530 of stature in the
Drillis & Contini segment proportions (Winter 2009, Biomechanics and Motor Control
of Human Movement, Fig. 4.1), so the reference stature is 0.8755/0.530 = 1.652 m.

Frames: each body's origin is its proximal joint (pelvis: the OpenSim pelvis origin;
foot: the ankle joint centre). x forward, y up when every coordinate is zero.
"""

from __future__ import annotations

import numpy as np

from .names import BODIES
from .params import ParamSpec

REFERENCE_MASS = 62.0  # kg, sum of the 2D_gait.osim bodies
REFERENCE_HEIGHT = 0.8755 / 0.530  # m, derived (module docstring)

JOINTS = ("lumbar", "hip_r", "knee_r", "ankle_r", "hip_l", "knee_l", "ankle_l")

# Per body: mass (kg), centre of mass (x, y) in the body frame (m), z-inertia about the CoM (kg m^2).
# Values read from 2D_gait.osim <Body> elements; the foot is lumped talus+calcn+toes.
_REF_BODY = {
    "pelvis": (9.7143336091724, (-0.0682778, 0.0), 0.0445427591530667),
    "torso": (28.240278003209, (-0.0289722, 0.309037), 1.14043571182129),
    "femur": (7.67231915023828, (0.0, -0.170467), 0.117110028170931),
    "tibia": (3.05815503574821, (0.0, -0.180489), 0.0393923204883429),
    "foot": (1.29222000782283, (0.05816091, -0.01350965), 0.00561836169632571),
}
# Joint centres in the parent body frame (m), from the 2D_gait.osim joint offset frames.
_REF_JOINT = {
    "lumbar": (-0.0972499926058214, 0.0787077894476112),  # in pelvis
    "hip": (-0.0682778001711179, -0.0638353973311301),  # in pelvis
    "knee": (-0.00451221232146798, -0.396907245921447),  # in femur
    "ankle": (0.0, -0.415694825374905),  # in tibia
}
# Contact spheres (centre in the foot frame (m), radius (m)): 2D_gait.osim heel_r / front_r
# ContactSpheres, moved from the calcaneus frame into the ankle-centred foot frame.
_REF_SPHERE = {
    "heel": ((-0.01326456, -0.02790329), 0.035),
    "ball": ((0.13283723, -0.05399289), 0.015),
}

_BODY_KIND = {"pelvis": "pelvis", "torso": "torso", "femur_r": "femur", "tibia_r": "tibia", "foot_r": "foot",
              "femur_l": "femur", "tibia_l": "tibia", "foot_l": "foot"}

SRC = "2D_gait.osim (Falisse 2019; Delp 1990 generic model), scaled by mass and height"

BODY_SPECS = {
    "body.segment_mass": ParamSpec(BODIES, "kg", 0.0, 500.0, f"segment mass; {SRC}", strict_low=True),
    "body.segment_com_x": ParamSpec(BODIES, "m", -2.0, 2.0, f"CoM x in the body frame; {SRC}"),
    "body.segment_com_y": ParamSpec(BODIES, "m", -2.0, 2.0, f"CoM y in the body frame; {SRC}"),
    "body.segment_inertia": ParamSpec(BODIES, "kg m^2", 0.0, 100.0, f"z-inertia about the CoM; {SRC}",
                                      strict_low=True),
    "body.joint_x": ParamSpec(JOINTS, "m", -2.0, 2.0, f"joint centre x in the parent frame; {SRC}"),
    "body.joint_y": ParamSpec(JOINTS, "m", -2.0, 2.0, f"joint centre y in the parent frame; {SRC}"),
    "body.gravity": ParamSpec(None, "m/s^2", 0.0, 100.0, "gravitational acceleration; standard gravity 9.80665"),
}

SUBJECT_SPECS = {
    "subject.body_mass": ParamSpec(None, "kg", 0.0, 500.0, "total body mass (default 75 kg)", strict_low=True),
    "subject.height": ParamSpec(None, "m", 0.0, 3.0, "stature (default 1.75 m)", strict_low=True),
}


def length_scale(height) -> np.ndarray:
    """Length scale factor of a stature ``height`` (m) relative to the reference body."""
    return np.asarray(height, dtype=float) / REFERENCE_HEIGHT


def body_defaults(body_mass: np.ndarray, height: np.ndarray) -> dict[str, np.ndarray]:
    """Batch-first default body parameters for per-walker ``body_mass`` (kg) and ``height`` (m)."""
    body_mass = np.asarray(body_mass, dtype=float)
    height = np.asarray(height, dtype=float)
    sm = (body_mass / REFERENCE_MASS)[:, None]
    sl = length_scale(height)[:, None]
    mass = np.array([_REF_BODY[_BODY_KIND[b]][0] for b in BODIES])[None, :]
    com = np.array([_REF_BODY[_BODY_KIND[b]][1] for b in BODIES])
    inertia = np.array([_REF_BODY[_BODY_KIND[b]][2] for b in BODIES])[None, :]
    joints = np.array([_REF_JOINT[j.split("_")[0]] for j in JOINTS])
    return {
        "body.segment_mass": mass * sm,
        "body.segment_com_x": com[None, :, 0] * sl,
        "body.segment_com_y": com[None, :, 1] * sl,
        "body.segment_inertia": inertia * sm * sl**2,
        "body.joint_x": joints[None, :, 0] * sl,
        "body.joint_y": joints[None, :, 1] * sl,
        "body.gravity": np.full(body_mass.shape, 9.80665),
    }


def sphere_defaults(height: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contact-sphere centres x, y (foot frame) and radii, each ``(B, 4)`` in the CONTACT_SPHERES order."""
    sl = length_scale(height)[:, None]
    order = ("heel", "ball", "heel", "ball")
    cx = np.array([_REF_SPHERE[k][0][0] for k in order])[None, :] * sl
    cy = np.array([_REF_SPHERE[k][0][1] for k in order])[None, :] * sl
    rad = np.array([_REF_SPHERE[k][1] for k in order])[None, :] * sl
    return cx, cy, rad
