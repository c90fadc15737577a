"""A 3 x 3 acute sweep (psoas shortening x calf stiffness) and a table of a few measures.

Usage:  python examples/small_sweep.py            (3 x 3 points, 10 s each; well under a minute)
        GAITSIM_QUICK=1 python examples/small_sweep.py   (4 s each)

Each point is the shipped trunk-initiated walker on a changed body (acute mode). Points whose
walker fell print their status instead of measures: ``gaitsim.sweep.walking`` masks them, so that
no mean mixes a fallen walker's few strides with the walking ones.
"""

from __future__ import annotations

import os

import numpy as np

import gaitsim.sweep as sw
from gaitsim.scenario import Scenario

GRID = {"psoas_shortening": [0.0, 0.5, 1.0], "calf_stiffness": [0.0, 0.3, 0.6]}
#: measures printed (SI, their units from the Dataset)
COLUMNS = ("speed", "cadence", "lumbar_compression_peak_bw", "psoas_r_impulse_per_m", "erector_spinae_impulse_per_m")


def main() -> None:
    quick = os.environ.get("GAITSIM_QUICK", "") not in ("", "0")
    duration = 4.0 if quick else 10.0
    ds = sw.sweep(Scenario.preset("healthy"), GRID, duration=duration)
    ok = sw.walking(ds)
    print(f"acute sweep, {duration:g} s per point (measures over the strides after 1 s)")
    titles = [f"{name} ({ds[name].attrs['units']})" if name in ds else name for name in COLUMNS]
    print(f"{'psoas':>6} {'calf':>5} {'status':>8}  " + "  ".join(titles))
    for p in ds["psoas_shortening"].values:
        for c in ds["calf_stiffness"].values:
            point = dict(psoas_shortening=p, calf_stiffness=c)
            values = [float(ok[name].sel(point)) if name in ok else np.nan for name in COLUMNS]
            cells = [f"{v:>{len(t)}.4g}" for v, t in zip(values, titles)]
            print(f"{p:>6.2f} {c:>5.2f} {str(ds['status'].sel(point).values):>8}  " + "  ".join(cells))


if __name__ == "__main__":
    main()
