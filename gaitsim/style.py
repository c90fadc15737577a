"""Shared look of gaitsim's figures (``plot``, ``animate``): colours and pyplot access.

Conventions of pyCGM2 and gaitutils: left red, right blue, the normative reference grey
(gaitutils ``model_normals_color``).
"""

from __future__ import annotations

SIDE_COLORS = {"r": "#3f00ff", "l": "#ff0000"}
#: normative reference colour (gaitutils ``model_normals_color``)
NORMATIVE_COLOR = "#A0A0A0"


def pyplot():
    """matplotlib.pyplot, without touching the backend (the caller's, or a notebook's, stays)."""
    import matplotlib.pyplot as plt

    return plt
