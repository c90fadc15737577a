"""Stable names of coordinates, bodies, muscles and contact spheres.

Coordinate names and sign conventions follow OpenSim's sagittal model
``2D_gait.osim`` (opensim-core, ``OpenSim/Examples/Moco/example2DWalking``):
every rotational coordinate is a rotation about the out-of-plane z axis
(x forward, y up), counter-clockwise positive. Hence

* ``pelvis_tilt`` > 0: pelvis rotates backward (posterior tilt);
* ``lumbar`` > 0: trunk extends (bends backward) relative to the pelvis;
* ``hip_flexion`` > 0: flexion;
* ``knee_angle`` < 0: flexion (0 = straight knee);
* ``ankle_angle`` > 0: dorsiflexion.

Angles are in radians and translations in metres everywhere inside gaitsim.
"""

from __future__ import annotations

SIDES = ("r", "l")

COORDINATES = (
    "pelvis_tx",
    "pelvis_ty",
    "pelvis_tilt",
    "lumbar",
    "hip_flexion_r",
    "knee_angle_r",
    "ankle_angle_r",
    "hip_flexion_l",
    "knee_angle_l",
    "ankle_angle_l",
)
N_COORDINATES = len(COORDINATES)
COORDINATE_UNITS = {name: ("m" if name in ("pelvis_tx", "pelvis_ty") else "rad") for name in COORDINATES}

#: Rigid bodies, in the order of their absolute angles (see ``skeleton``).
BODIES = ("pelvis", "torso", "femur_r", "tibia_r", "foot_r", "femur_l", "tibia_l", "foot_l")
N_BODIES = len(BODIES)

#: Muscles on each leg (the suffix _r/_l is appended).
LEG_MUSCLES = (
    "psoas",
    "iliacus",
    "glut_max",
    "hamstrings",
    "rect_fem",
    "vasti",
    "gastroc",
    "soleus",
    "tib_ant",
)
#: Lumped trunk muscles (left and right sides together, see ``muscle_table``).
TRUNK_MUSCLES = ("erector_spinae", "abdominals")

MUSCLES = tuple(f"{m}_{s}" for s in SIDES for m in LEG_MUSCLES) + TRUNK_MUSCLES
N_MUSCLES = len(MUSCLES)

#: Contact spheres (heel and ball of each foot), as in 2D_gait.osim.
CONTACT_SPHERES = ("heel_r", "ball_r", "heel_l", "ball_l")
N_CONTACTS = len(CONTACT_SPHERES)


def coordinate_index(name: str) -> int:
    """Index of a coordinate name; ``ValueError`` listing the allowed names otherwise."""
    try:
        return COORDINATES.index(name)
    except ValueError:
        raise ValueError(f"unknown coordinate {name!r}; allowed: {', '.join(COORDINATES)}") from None


def muscle_index(name: str) -> int:
    """Index of a muscle name; ``ValueError`` listing the allowed names otherwise."""
    try:
        return MUSCLES.index(name)
    except ValueError:
        raise ValueError(f"unknown muscle {name!r}; allowed: {', '.join(MUSCLES)}") from None
