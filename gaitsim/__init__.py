"""gaitsim: a vectorized sagittal-plane neuromusculoskeletal walking simulator.

Quick use::

    import gaitsim as gs
    model = gs.build_model(batch_size=4, scale={"muscle.tendon_slack_length.soleus_*": [1.0, 0.97, 0.94, 0.91]})
    x0 = gs.initial_state(model, height_above_ground=0.02)
    res = gs.simulate(model, gs.PoseHold(), duration=1.0, initial_state=x0)
    res.status_text(), res["grf"].shape   # (B, T, 2 feet, 2 xy) in N
"""

from .control import ConstantExcitation, ControlOutput, DelayLine, PoseHold, TrunkPush
from .integrate import DEFAULT_DT, SaveEvery, SaveFinal, SaveSummary, SemiImplicitEuler, simulate
from .model import Model, build_model, select_walkers
from .names import BODIES, CONTACT_SPHERES, COORDINATES, MUSCLES
from .results import Results
from .state import StateLayout, center_of_mass, initial_state, standing_pose

from .version import __version__  # noqa: E402

__all__ = [
    "build_model", "select_walkers", "Model", "initial_state", "standing_pose", "center_of_mass", "StateLayout",
    "simulate", "SemiImplicitEuler",
    "SaveEvery", "SaveSummary", "SaveFinal", "DEFAULT_DT", "Results", "ConstantExcitation", "PoseHold", "DelayLine",
    "ControlOutput", "TrunkPush", "COORDINATES", "MUSCLES", "BODIES", "CONTACT_SPHERES",
]
