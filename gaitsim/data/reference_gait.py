"""A measured healthy stride, shipped for comparisons and for tuning objectives.

Source: opensim-org/opensim-models (snapshot 20a888b9655e, Dec 2024),
``Pipelines/Gait10dof18musc`` subject01 (72.6 kg, treadmill, about 1.13 m/s): inverse kinematics,
inverse dynamics and ground forces of one right stride (heel strike 0.618 s to 1.853 s, toe-off at
64.1 %), resampled to 0-100 % in 101 rows (``subject01_right_stride.csv``, derived by the gaitsim
reference collection; its first line says how). Licence: CC BY 3.0, credit to the OpenSim project,
Stanford University (Delp lab), as the model's ``<credits>`` ask; the data files carry no licence of
their own (uncertain).

Units as in the file: angles in degrees with knee *flexion* positive and ankle dorsiflexion
positive; moments N m/kg; powers W/kg; ground force in body weights.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np

FILE = "subject01_right_stride.csv"


@lru_cache(maxsize=1)
def reference_stride() -> dict[str, np.ndarray]:
    """Columns of the measured right stride as read-only float arrays (101 rows each)."""
    text = resources.files("gaitsim.data").joinpath(FILE).read_text()
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    names = lines[0].split(",")
    values = np.array([[float(v) for v in ln.split(",")] for ln in lines[1:]])
    out = {}
    for k, name in enumerate(names):
        col = values[:, k].copy()
        col.flags.writeable = False
        out[name] = col
    return out
