"""The reflex controllers' gains (``ReflexGains``): names, defaults and sources.

Sources: [GH] Geyer & Herr 2010 (IEEE TNSRE 18:263), [CMU] the CMU Python port of that model,
[SC] SCONE's port (the laws are described in ``gaitsim.reflex``). The gains have a module of their
own so that the numpy controller (``reflex``) and the compiled law (``compiled.reflex``) read one
list of names, in one order.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class ReflexGains:
    """Controller gains (dimensionless unless stated). Defaults: Geyer & Herr 2010 as ported by
    SCONE/CMU (the paper's values); gaitsim extensions start from
    documented guesses and are meant to be tuned (``optimize``)."""

    S0: float = 0.01  # pre-stimulation [GH]
    G_SOL: float = 1.2  # per F_max [GH]
    G_TA: float = 1.1  # per l_opt [GH]
    l_off_TA: float = 0.71  # l_opt [GH]
    G_SOLTA: float = 0.3  # [GH]
    G_GAS: float = 1.1  # [GH]
    S0_VAS: float = 0.09  # [GH]
    G_VAS: float = 1.15  # [GH]
    k_phi: float = 2.0  # 1/rad [GH]
    knee_off: float = -0.17  # rad (phi_k,off = 2.97 rad inner angle) [GH]
    k_bw: float = 1.2  # 1/BW [CMU]
    dS: float = 0.25  # double-support transfer [GH]
    kp: float = 1.91  # 1/rad [GH]
    kd: float = 0.25  # s/rad [GH]
    S0_BAL: float = 0.05  # [GH]
    theta_ref: float = 0.105  # rad, trunk lean reference [GH]
    G_HFL: float = 0.35  # [GH]
    l_off_HFL: float = 0.60  # [GH]
    k_lean: float = 1.15  # 1/rad [GH]
    G_HAMHFL: float = 4.0  # [GH]
    l_off_HAM: float = 0.85  # [GH]
    G_HAM: float = 0.65  # [GH]
    G_GLU: float = 0.4  # [GH]
    G_RF: float = 0.1  # s/rad, swing knee-flexion damping (gaitsim guess after Song & Geyer 2015 M8)
    calf_stretch_gain: float = 0.5  # per l_opt beyond l_off_CS (gaitsim guess, to be tuned)
    l_off_CS: float = 1.0  # l_opt
    calf_stretch_velocity_gain: float = 0.2  # per v_max lengthening (gaitsim guess)
    S0_L: float = 0.02  # lumbar pre-stimulation (gaitsim guess)
    kp_L: float = 2.0  # 1/rad (gaitsim guess, scaled like kp)
    kd_L: float = 0.3  # s/rad (gaitsim guess)
    kq_L: float = 1.0  # 1/rad, lumbar angle term (gaitsim guess)
    lumbar_ref: float = 0.0  # rad of lumbar flexion held (gaitsim guess; the measured subject walks about 0.39 rad
    # flexed, OpenSim subject01 in gait10dof18musc frames; the shipped trunk-initiated walker is tuned to 0.31)
    G_ABS: float = 1.0  # abdominals' drive relative to the symmetric lumbar law (1; gaitsim choice)
    abs_tone: float = 1.0  # abdominals' share of the pre-stimulation S0_L (1: shared; gaitsim choice)
    k_trunk: float = 1.0  # 1/rad, trunk-lean drive of the swing hip flexors (trunk_initiated)
    G_sway: float = 5.0  # 1/m, sway drive of the hip flexors in pre-swing (trunk_initiated)
    sway_threshold: float = 0.15  # m, pelvis ahead of the stance foot that triggers pre-swing
    transfer_load: float = 0.3  # BW on the other leg required for pre-swing
    stance_on: float = 0.1  # BW [SC stance_load_threshold 0.1]
    stance_off: float = 0.02  # BW (hysteresis, gaitsim choice)
    pre_swing_calf_keep: float = 0.0  # fraction of calf F+ kept in pre-swing (trunk_initiated; gaitsim choice)
    G_ES_DS: float = 0.0  # erector spinae drive in double support (0: off; gaitsim extension, see reflex's docstring)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))
