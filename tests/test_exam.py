"""Virtual clinical exams (gaitsim.exam): independent checks of the quasi-static moments."""

import numpy as np
import pytest

from gaitsim import exam
from gaitsim import muscles as mus
from gaitsim.model import build_model, select_walkers
from gaitsim.muscle_table import PAIR_NAMES
from gaitsim.names import COORDINATES, MUSCLES

DEG = np.pi / 180.0


@pytest.fixture(scope="module")
def model():
    return build_model(1)


def test_equilibrium_fibre_length_by_hand(model):
    """Soleus at 15 deg dorsiflexion: path length from the cosine-arm integral by hand, and the
    returned fibre length balances tendon against fibre force."""
    q = np.zeros((10, 1))
    q[COORDINATES.index("ankle_angle_r")] = 15 * DEG
    act = exam.activation_rows(model, 0.01)
    st = exam.static_state(model, q, act)
    i = MUSCLES.index("soleus_r")
    p = PAIR_NAMES.index("soleus_r@ankle_angle_r")
    r0, qmax, qref = model.paths.r0[p, 0], model.paths.q_max[p, 0], model.paths.q_ref[p, 0]
    l_mtu = model.paths.l_ref[i, 0] - r0 * (np.sin(15 * DEG - qmax) - np.sin(qref - qmax))
    m = model.muscles
    l_ce = st.fiber_length_norm[i, 0] * m.l_opt[i, 0]
    eps = (l_mtu - l_ce) / m.l_slack[i, 0] - 1.0
    f_se = m.f_max[i, 0] * (max(eps, 0) / 0.04) ** 2
    ln = l_ce / m.l_opt[i, 0]
    f_fibre = (0.01 * m.f_max[i, 0] * np.exp(np.log(0.05) * abs((ln - 1) / 0.56) ** 3)
               + m.f_max[i, 0] * (max(ln - 1, 0) / 0.56) ** 2
               + 1e-6 * m.f_max[i, 0])  # the 1e-6 F_max floor of muscles.fiber_dynamics
    assert f_se > 50.0  # stretched: a real check, not 0 = 0
    assert st.force[i, 0] == pytest.approx(f_se, rel=1e-9)
    assert f_se == pytest.approx(f_fibre, rel=1e-6)
    # ankle moment of the soleus alone: -F * arm(q), arm = r0 cos(q - q_max)
    assert r0 * np.cos(15 * DEG - qmax) * f_se < 0


def _elastic_energy(model, q):
    """Stored elastic energy (J) of all relaxed (activation 0) muscles at posture q (10, 1)."""
    st = exam.static_state(model, q, np.zeros((len(MUSCLES), 1)))
    m = model.muscles
    ln = st.fiber_length_norm
    l_ce = ln * m.l_opt
    w = mus.FL_WIDTH
    from gaitsim.model import path_geometry

    l_mtu, _ = path_geometry(model.paths, q)
    eps = np.maximum((l_mtu - l_ce) / m.l_slack - 1.0, 0)
    e_tendon = m.f_max * m.l_slack * eps**3 / (3 * m.ref_strain**2)
    x_pe = np.maximum(ln - 1, 0) / w
    e_pe = m.pe_factor * m.f_max * m.l_opt * w * x_pe**3 / 3
    # no buffer-element energy: it acts only on fibres below 0.44 l_opt, which in these relaxed
    # postures happens only behind a slack tendon (no force reaches the joint)
    return float((e_tendon + e_pe).sum())


@pytest.mark.parametrize("coord,angle", [("ankle_angle_r", 25 * DEG), ("hip_flexion_r", -20 * DEG),
                                         ("knee_angle_r", -100 * DEG)])
def test_passive_moment_is_minus_energy_gradient(model, coord, angle):
    """Passive muscle moment = -dE/dq of the stored elastic energy (central difference)."""
    q = np.zeros((10, 1))
    q[COORDINATES.index(coord)] = angle
    st = exam.static_state(model, q, np.zeros((len(MUSCLES), 1)))
    h = 1e-5
    qp, qm = q.copy(), q.copy()
    qp[COORDINATES.index(coord)] += h
    qm[COORDINATES.index(coord)] -= h
    grad = (_elastic_energy(model, qp) - _elastic_energy(model, qm)) / (2 * h)
    moment = st.muscle_moment[COORDINATES.index(coord), 0]
    assert abs(moment) > 1.0
    assert moment == pytest.approx(-grad, rel=2e-3, abs=1e-3)


def test_batch_equals_single_runs():
    m = build_model(3, body_mass=[60.0, 75.0, 90.0], height=[1.6, 1.75, 1.9])
    rep = exam.run_exams(m)
    for b in range(3):
        one = exam.run_exams(select_walkers(m, b))
        for k, v in rep.values().items():
            assert v[b] == pytest.approx(one.values()[k][0], rel=1e-12, abs=1e-12), k
        np.testing.assert_allclose(rep.dorsiflexion.extended_total[b], one.dorsiflexion.extended_total[0])


def test_dorsiflexion_range_definitions(model):
    d = exam.dorsiflexion_range(model)
    # the crossing is where the total resistance curve reaches the threshold
    r = np.interp(d.range_extended[0], d.angles[0], d.extended_total[0])
    assert r == pytest.approx(exam.ANKLE_THRESHOLD, rel=1e-9)
    # Silfverskiold: flexing the knee slackens the gastrocnemius, so more dorsiflexion
    assert d.range_flexed[0] > d.range_extended[0] + 5 * DEG
    # resistance grows with dorsiflexion in the tested range
    assert np.all(np.diff(d.extended_total[0][d.angles[0] > 0]) > 0)
    # total = muscle + limit (limit only past the 20 deg soft stop)
    diff = d.extended_total[0] - d.extended_muscle[0]
    assert np.all(diff[d.angles[0] <= 20 * DEG] == 0)
    assert np.all(diff[d.angles[0] > 20.5 * DEG] > 0)


def test_thomas_test_and_tone(model):
    t0 = exam.thomas_test(model)
    t1 = exam.thomas_test(model, excitation_offset={"psoas_r": 0.05, "iliacus_r": 0.05})
    assert np.isfinite(t0.hip_angle[0])
    assert t1.hip_angle[0] > t0.hip_angle[0] + 5 * DEG  # tone keeps the thigh up
    # lumbar flexion moment = 1 cm arm x psoas force at that hip angle (muscle_table)
    q = np.zeros((10, 1))
    q[COORDINATES.index("hip_flexion_r")] = t0.hip_angle[0]
    q[COORDINATES.index("knee_angle_r")] = exam.THOMAS_KNEE
    st = exam.static_state(model, q, exam.activation_rows(model))
    f = st.force[MUSCLES.index("psoas_r"), 0]
    arm = model.paths.r0[PAIR_NAMES.index("psoas_r@lumbar"), 0]
    assert arm < 0  # flexion arm (muscle_table: 1 cm at the reference leg length)
    assert t0.psoas_lumbar_flexion[0] == pytest.approx(-arm * f, rel=1e-9)
    assert t0.psoas_lumbar_flexion[0] > 0


def test_strength_and_table(model):
    s = exam.ankle_strength(model)
    assert 5.0 < s.dorsiflexor_peak[0] < 100.0
    assert 50.0 < s.plantarflexor_peak[0] < 400.0
    # weaker tibialis anterior -> weaker dorsiflexion, plantarflexors unchanged
    w = exam.ankle_strength(build_model(1, scale={"muscle.max_isometric_force.tib_ant_r": 0.5}))
    assert w.dorsiflexor_peak[0] < 0.6 * s.dorsiflexor_peak[0]
    assert w.plantarflexor_peak[0] == pytest.approx(s.plantarflexor_peak[0], rel=0.01)
    text = exam.run_exams(model).table()
    assert "Thomas" in text and "deg" in text and "N m" in text


def test_left_side_mirrors_right(model):
    r, l_ = exam.run_exams(model, "r").values(), exam.run_exams(model, "l").values()
    for k in r:
        assert r[k][0] == pytest.approx(l_[k][0], rel=1e-12)


def test_bad_side(model):
    with pytest.raises(ValueError, match="side"):
        exam.dorsiflexion_range(model, side="x")
