"""Write the bit-identity reference of ``tests/test_bit_identity.py``: 2 s of each shipped walker on
both backends, with the test's calls. Run it on the commit before a refactor:

    python tests/data/write_bit_identity_reference.py tests/data/before_<version>.npz
"""

import sys

import numpy as np

import gaitsim as gs
from gaitsim.tuned import healthy_walker, tuned_integration


def main(path: str) -> None:
    out = {}
    for mode in ("trunk_initiated", "geyer_herr"):
        for backend in ("numpy", "numba"):
            model = gs.build_model(batch_size=1)
            ctrl, x0 = healthy_walker(model, mode=mode, backend=backend)
            res = gs.simulate(model, ctrl, duration=2.0, initial_state=x0,
                              save=gs.SaveEvery(100, ("q", "muscle_force", "grf")),
                              **tuned_integration(mode, backend=backend))
            for field in ("q", "muscle_force", "grf"):
                out[f"{mode}/{backend}/{field}"] = res[field]
            out[f"{mode}/{backend}/final_state"] = res.final_state
    np.savez_compressed(path, **out)


if __name__ == "__main__":
    main(sys.argv[1])
