"""gaitsim: a vectorized sagittal-plane neuromusculoskeletal walking simulator.

Quick use::

    import gaitsim as gs
    sc = gs.Scenario.preset("tight_psoas", severity=0.6)   # or gs.Scenario.load("my.toml")
    sc.exam().table()                                       # virtual clinical exams
    res = sc.run(duration=20.0)                             # acute mode: the healthy controller
    res.measures.table(names=gs.measures.HEADLINE)          # loads per stride, mean +/- SD
    gs.compare(["healthy", sc], duration=20.0).table()      # change from healthy in %
    gs.plot.activations(res)                                # a matplotlib Figure

The low-level API: ``build_model`` (a batch of walkers, every parameter per walker),
``simulate`` (one array computation for the whole batch), ``Results``. ``plot``, ``sweep``,
``validate``, ``export`` and ``adapt`` load on first use.
"""

from importlib import import_module

from .compare import Comparison, compare
from .control import ConstantExcitation, ControlOutput, DelayLine, ExcitationOffset, PoseHold, TrunkPush
from .integrate import DEFAULT_DT, SaveEvery, SaveFinal, SaveSummary, SemiImplicitEuler, simulate
from .model import Model, build_model, select_walkers, stack_models
from .names import BODIES, CONTACT_SPHERES, COORDINATES, MUSCLES
from .results import Results
from .scenario import PRESETS, Scenario, ScenarioResult, run_batch
from .state import StateLayout, center_of_mass, initial_state, standing_pose
from .version import __version__

#: submodules loaded on first use (they pull in matplotlib, xarray or cma)
_LAZY_MODULES = ("plot", "animate", "sweep", "validate", "export", "adapt", "measures", "exam", "impairments",
                 "analysis", "optimize", "tuned")


def __getattr__(name):
    if name in _LAZY_MODULES:
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module 'gaitsim' has no attribute {name!r}")


__all__ = [
    "Scenario", "ScenarioResult", "PRESETS", "run_batch", "compare", "Comparison",
    "build_model", "select_walkers", "stack_models", "Model", "initial_state", "standing_pose", "center_of_mass",
    "StateLayout", "simulate", "SemiImplicitEuler",
    "SaveEvery", "SaveSummary", "SaveFinal", "DEFAULT_DT", "Results", "ConstantExcitation", "PoseHold", "DelayLine",
    "ControlOutput", "TrunkPush", "ExcitationOffset", "COORDINATES", "MUSCLES", "BODIES", "CONTACT_SPHERES",
    "__version__", *_LAZY_MODULES,
]
