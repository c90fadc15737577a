"""Soft joint limits with penetration-dependent damping.

Torque law (Geyer & Herr 2010; H. Geyer's ``nms_model_MechInit.m``):
``tau = k p max(0, 1 + p_dot / w_max)`` pushing back out of the limit, with penetration ``p`` past
the limit, ``k = 0.3 N m/deg = 17.19 N m/rad`` and ``w_max = 1 deg/s``. The damping factor is
clipped at zero so the limit never pulls (a limit that pulls would glue the joint to it).

Default ranges (OpenSim coordinates, degrees):

* lumbar -60 .. 25: thoracolumbar flexion 60 / extension 25 (AMA Guides; AAOS lists flexion 80),
* hip_flexion -30 .. 120: AAOS normal range of motion (Greene & Heckman 1994),
* knee_angle -135 .. -5: flexion 135 (AAOS); extension stop at 175 deg inner angle [GH-M],
* ankle_angle -40 .. 20: [GH-M] limits 70 deg (dorsiflexion 20) and 130 deg (plantarflexion 40).
"""

from __future__ import annotations

import numpy as np

from .params import ParamSpec

LIMITED = ("lumbar", "hip_flexion_r", "knee_angle_r", "ankle_angle_r", "hip_flexion_l", "knee_angle_l",
           "ankle_angle_l")
LIMITED_SLICE = slice(3, 10)  # rows of names.COORDINATES that carry limits

_d = np.pi / 180.0
_LOWER = np.array([-60, -30, -135, -40, -30, -135, -40]) * _d
_UPPER = np.array([25, 120, -5, 20, 120, -5, 20]) * _d

LIMIT_SPECS = {
    "limits.lower": ParamSpec(LIMITED, "rad", -np.pi, np.pi, "lower soft limit (module docstring sources)"),
    "limits.upper": ParamSpec(LIMITED, "rad", -np.pi, np.pi, "upper soft limit (module docstring sources)"),
    "limits.stiffness": ParamSpec(None, "N m/rad", 0.0, 1e6, "k = 0.3 N m/deg [GH-M]"),
    "limits.damping_velocity": ParamSpec(None, "rad/s", 0.0, 100.0, "w_max = 1 deg/s [GH-M]", strict_low=True),
}


def limit_defaults(batch: int) -> dict[str, np.ndarray]:
    return {
        "limits.lower": np.tile(_LOWER, (batch, 1)),
        "limits.upper": np.tile(_UPPER, (batch, 1)),
        "limits.stiffness": np.full(batch, 0.3 / _d),
        "limits.damping_velocity": np.full(batch, 1.0 * _d),
    }


def limit_torques(q, qdot, lower, upper, stiffness, w_max):
    """Limit torques (N m) and damping coefficients -dtau/dqdot (N m s/rad) on the limited rows.

    q, qdot: (7, B) angles and rates of ``LIMITED``; lower, upper: (7, B); stiffness, w_max: (B,).
    """
    pen_lo = lower - q
    pen_hi = q - upper
    f_lo = 1.0 - qdot / w_max  # penetration rate below the lower limit is -qdot
    f_hi = 1.0 + qdot / w_max
    act_lo = (pen_lo > 0.0) & (f_lo > 0.0)
    act_hi = (pen_hi > 0.0) & (f_hi > 0.0)
    tau = np.where(act_lo, stiffness * pen_lo * f_lo, 0.0) - np.where(act_hi, stiffness * pen_hi * f_hi, 0.0)
    damp = np.where(act_lo, stiffness * pen_lo / w_max, 0.0) + np.where(act_hi, stiffness * pen_hi / w_max, 0.0)
    return tau, damp
