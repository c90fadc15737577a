"""reflex_gains: one list of gain names, read by the numpy law and the compiled kernel alike."""

import dataclasses

import numpy as np

from gaitsim import reflex
from gaitsim.compiled import reflex as kernel
from gaitsim.reflex_gains import ReflexGains


def test_names_are_the_fields_in_order_with_finite_defaults():
    names = ReflexGains.names()
    assert names == tuple(f.name for f in dataclasses.fields(ReflexGains)) and len(set(names)) == len(names)
    assert names[0] == "S0" and names[-1] == "G_ES_DS"  # new gains go last
    assert all(np.isfinite(getattr(ReflexGains(), n)) for n in names)
    assert ReflexGains().stance_off < ReflexGains().stance_on  # the hysteresis the controller requires
    assert reflex.ReflexGains is ReflexGains  # still importable from gaitsim.reflex


def test_the_kernel_reads_each_gain_from_its_own_row():
    assert kernel.ReflexGainIndex._fields == ReflexGains.names()
    assert [getattr(kernel.GAIN, n) for n in ReflexGains.names()] == list(range(len(ReflexGains.names())))
