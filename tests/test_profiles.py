"""Feed-forward activation profiles: evaluation, fit from a run, combination with reflexes."""

import numpy as np
import pytest

import gaitsim as gs
from gaitsim.profiles import CombinedController, ProfileController, fit_profiles, fourier_basis

K = 3


def _coefficients(seed=0):
    rng = np.random.default_rng(seed)
    c = np.zeros((len(gs.MUSCLES), 1 + 2 * K))
    c[:, 0] = rng.uniform(0.2, 0.4, len(gs.MUSCLES))
    c[:, 1:] = rng.normal(0, 0.05, (len(gs.MUSCLES), 2 * K))
    return c


def test_profile_values_and_half_cycle_shift():
    c = _coefficients()
    m = gs.build_model()
    ctrl = ProfileController(c, stride_time=1.2)
    ctrl.initial_memory(m, None, None)
    t = 0.3
    u = ctrl.excitation(t)[:, 0]
    r, l = gs.MUSCLES.index("soleus_r"), gs.MUSCLES.index("soleus_l")
    phi = t / 1.2
    assert u[r] == pytest.approx(c[r] @ fourier_basis(phi, K))
    assert u[l] == pytest.approx(c[l] @ fourier_basis((phi + 0.5) % 1, K))


def test_fit_recovers_profiles_from_a_run():
    c = _coefficients(1)
    m = gs.build_model()
    T = 1.1
    ctrl = ProfileController(c, stride_time=T)
    ctrl.initial_memory(m, None, None)
    time = np.arange(0, 5 * T, 0.002)
    exc = np.array([ctrl.excitation(t)[:, 0] for t in time])
    phase = (time / T) % 1.0
    fy = np.where(phase < 0.6, 700.0, 0.0)  # right stance from each right heel strike
    coef, stride = fit_profiles(time, exc, fy, body_weight=735.0, harmonics=K)
    assert stride == pytest.approx(T, abs=0.004)
    np.testing.assert_allclose(coef, c, atol=5e-3)


def test_combined_adds_profile_to_reflexes():
    from gaitsim.dynamics import evaluate_forces
    from gaitsim.reflex import ReflexController
    from gaitsim.walking_start import walking_state

    m = gs.build_model()
    x = walking_state(m).T
    fs = evaluate_forces(m, x[0:10], x[10:20], x[20:40], x[40:60], x[60:64].reshape(2, 2, 1),
                         x[64:68].reshape(2, 2, 1))
    c = np.zeros((len(gs.MUSCLES), 1 + 2 * K))
    c[gs.MUSCLES.index("tib_ant_r"), 0] = 0.31  # +0.3 above the floor, constant
    combo = CombinedController(ReflexController(), ProfileController(c))
    reflex = ReflexController()
    for controller in (combo, reflex):
        controller.bind_step(2.5e-4)
    mem_c = combo.initial_memory(m, x[0:10], x[10:20])
    mem_r = reflex.initial_memory(m, x[0:10], x[10:20])
    for k in range(3):  # same sensors, same memory evolution
        both = combo(k * 2.5e-4, fs, mem_c).excitation[:, 0]
        ref = reflex(k * 2.5e-4, fs, mem_r).excitation[:, 0]
    i, j = gs.MUSCLES.index("tib_ant_r"), gs.MUSCLES.index("soleus_r")
    assert both[i] == pytest.approx(min(ref[i] + 0.3, 1.0))
    assert both[j] == pytest.approx(ref[j])


def test_bad_profile_input():
    m = gs.build_model()
    with pytest.raises(ValueError, match="coefficients"):
        ProfileController(np.zeros((3, 3))).initial_memory(m, None, None)
    with pytest.raises(ValueError, match="stride_time"):
        ProfileController(np.zeros((len(gs.MUSCLES), 3)), stride_time=0.0).initial_memory(m, None, None)
