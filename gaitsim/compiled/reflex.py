"""Compiled reflex law (``reflex.ReflexController.__call__``), selected by ``ReflexController(backend="numba")``."""

from __future__ import annotations

import numpy as np

from ..names import COORDINATES, LEG_MUSCLES, N_MUSCLES
from ._numba import njit, numba, require

#: gain order of the kernel's unpacking below; must equal ReflexGains.names() (checked at import)
_KERNEL_GAIN_ORDER = (
    "S0", "G_SOL", "G_TA", "l_off_TA", "G_SOLTA", "G_GAS", "S0_VAS", "G_VAS", "k_phi", "knee_off", "k_bw", "dS",
    "kp", "kd", "S0_BAL", "theta_ref", "G_HFL", "l_off_HFL", "k_lean", "G_HAMHFL", "l_off_HAM", "G_HAM", "G_GLU",
    "G_RF", "calf_stretch_gain", "l_off_CS", "calf_stretch_velocity_gain", "S0_L", "kp_L", "kd_L", "kq_L",
    "lumbar_ref", "k_trunk", "G_sway", "sway_threshold", "transfer_load", "stance_on", "stance_off",
)


#: signal rows the kernel writes (by number); must equal ReflexController.SIGNALS (checked at import)
_KERNEL_SIGNAL_ORDER = (
    "theta", "theta_dot", "lumbar", "lumbar_dot", "load_r", "load_l", "sway_r", "sway_l", "l_HFL_r", "l_HFL_l",
    "l_HAM_r", "l_HAM_l", "F_HAM_r", "F_HAM_l", "F_GLU_r", "F_GLU_l", "F_VAS_r", "F_VAS_l", "knee_r", "knee_l",
    "knee_dot_r", "knee_dot_l", "F_SOL_r", "F_SOL_l", "F_GAS_r", "F_GAS_l", "l_TA_r", "l_TA_l", "l_SOL_r", "l_SOL_l",
    "l_GAS_r", "l_GAS_l", "v_SOL_r", "v_SOL_l", "v_GAS_r", "v_GAS_l",
)
#: leg-muscle positions within a leg block (names.LEG_MUSCLES) and the block length
_NLM = len(LEG_MUSCLES)
_PSOAS, _ILIACUS, _GLU, _HAM, _RF, _VAS, _GAS, _SOL, _TA = (
    LEG_MUSCLES.index(m) for m in ("psoas", "iliacus", "glut_max", "hamstrings", "rect_fem", "vasti", "gastroc",
                                   "soleus", "tib_ant"))
_KNEE_R, _LUMBAR_ROW = COORDINATES.index("knee_angle_r"), COORDINATES.index("lumbar")
_KNEE_STRIDE = COORDINATES.index("knee_angle_l") - _KNEE_R


def _check_gain_order():
    from ..reflex import ReflexController, ReflexGains

    if ReflexGains.names() != _KERNEL_GAIN_ORDER:
        raise RuntimeError("gaitsim.compiled: _KERNEL_GAIN_ORDER no longer matches ReflexGains; update the kernel")
    if tuple(n for n, _ in ReflexController.SIGNALS) != _KERNEL_SIGNAL_ORDER:
        raise RuntimeError("gaitsim.compiled: _KERNEL_SIGNAL_ORDER no longer matches ReflexController.SIGNALS")


_check_gain_order()

if numba is not None:
    from ..control import MIN_EXCITATION as _MIN_EXC

    @njit(cache=True, inline="always")
    def _p(x):
        return max(x, 0.0)

    @njit(cache=True)
    def _reflex_kernel(step, trunk_initiated, gains, force, l_norm, v_ce, fn, sphere_pos, psi, psidot, q, qdot,
                       f_max, v_scale, bw, delay_steps, n_slots, n_line, memory, exc):
        nb = q.shape[1]
        n_sig = delay_steps.shape[0]
        scratch = np.empty((nb, 2 * n_sig))
        for b in range(nb):
            (S0, G_SOL, G_TA, l_off_TA, G_SOLTA, G_GAS, S0_VAS, G_VAS, k_phi, knee_off, k_bw, dS,
             kp, kd, S0_BAL, theta_ref, G_HFL, l_off_HFL, k_lean, G_HAMHFL, l_off_HAM, G_HAM, G_GLU,
             G_RF, G_CS, l_off_CS, G_CSV, S0_L, kp_L, kd_L, kq_L,
             lumbar_ref, k_trunk, G_sway, sway_threshold, transfer_load, stance_on, stance_off) = gains[b]
            sig = scratch[b, :n_sig]
            d = scratch[b, n_sig:]
            # --- sensors (ReflexController._signals), rows in SIGNALS order ---
            sig[0] = -psi[3, b]
            sig[1] = -psidot[3, b]
            sig[2] = q[_LUMBAR_ROW, b]
            sig[3] = qdot[_LUMBAR_ROW, b]
            for leg in range(2):
                sig[4 + leg] = (fn[leg, 0, b] + fn[leg, 1, b]) / bw[b]
                foot_x = 0.5 * (sphere_pos[0, leg, 0, b] + sphere_pos[0, leg, 1, b])
                sig[6 + leg] = psi[0, b] - foot_x
                o = _NLM * leg  # this leg's block of muscles
                sig[8 + leg] = l_norm[o + _PSOAS, b]
                sig[10 + leg] = l_norm[o + _HAM, b]
                sig[12 + leg] = force[o + _HAM, b] / f_max[o + _HAM, b]
                sig[14 + leg] = force[o + _GLU, b] / f_max[o + _GLU, b]
                sig[16 + leg] = force[o + _VAS, b] / f_max[o + _VAS, b]
                sig[18 + leg] = q[_KNEE_R + _KNEE_STRIDE * leg, b]
                sig[20 + leg] = qdot[_KNEE_R + _KNEE_STRIDE * leg, b]
                sig[22 + leg] = force[o + _SOL, b] / f_max[o + _SOL, b]
                sig[24 + leg] = force[o + _GAS, b] / f_max[o + _GAS, b]
                sig[26 + leg] = l_norm[o + _TA, b]
                sig[28 + leg] = l_norm[o + _SOL, b]
                sig[30 + leg] = l_norm[o + _GAS, b]
                sig[32 + leg] = v_ce[o + _SOL, b] / v_scale[o + _SOL, b]
                sig[34 + leg] = v_ce[o + _GAS, b] / v_scale[o + _GAS, b]
            # --- delay line (control.DelayLine.push): read step - steps[i], then write this step ---
            slot = step % n_slots
            for i in range(n_sig):
                d[i] = memory[((step - delay_steps[i]) % n_slots) * n_sig + i, b]
            for i in range(n_sig):
                memory[slot * n_sig + i, b] = sig[i]
            theta, theta_dot = d[0], d[1]
            # --- phase transitions, both legs first (each needs the other's touchdown) ---
            ph0 = n_line  # rows: phase r, l, trailing r, l, theta_TO r, l
            old_phase = (memory[ph0, b], memory[ph0 + 1, b])
            touchdown = (old_phase[0] < 1.0 and d[4] > stance_on, old_phase[1] < 1.0 and d[5] > stance_on)
            for leg in range(2):
                c = 1 - leg
                phase = old_phase[leg]
                trailing = memory[ph0 + 2 + leg, b]
                theta_to = memory[ph0 + 4 + leg, b]
                load, load_c, sway = d[4 + leg], d[4 + c], d[6 + leg]
                in_stance = phase >= 1.0
                liftoff = in_stance and load < stance_off
                new_phase = 1.0 if touchdown[leg] else (0.0 if liftoff else phase)
                if liftoff or not new_phase >= 1.0:
                    new_trailing = 0.0
                elif touchdown[c] and in_stance:
                    new_trailing = 1.0
                else:
                    new_trailing = trailing
                new_theta_to = theta if liftoff else theta_to
                if trunk_initiated and new_phase == 1.0 and sway > sway_threshold and load_c > transfer_load:
                    new_phase = 2.0
                stance = new_phase >= 1.0
                pre = new_phase == 2.0
                ds_f = 1.0 if (new_trailing > 0.0 and stance and load_c > stance_on) else 0.0
                F_SOL, F_GAS, F_VAS = d[22 + leg], d[24 + leg], d[16 + leg]
                F_HAM, F_GLU = d[12 + leg], d[14 + leg]
                l_TA, l_HFL, l_HAM = d[26 + leg], d[8 + leg], d[10 + leg]
                l_SOL, l_GAS, v_SOL, v_GAS = d[28 + leg], d[30 + leg], d[32 + leg], d[34 + leg]
                knee, knee_dot = d[18 + leg], d[20 + leg]
                release = 0.0 if pre else 1.0
                # stance laws
                calf = G_CS * _p(l_SOL - l_off_CS) + G_CSV * _p(v_SOL)
                calf_g = G_CS * _p(l_GAS - l_off_CS) + G_CSV * _p(v_GAS)
                st_SOL = S0 + release * G_SOL * F_SOL + calf
                st_GAS = S0 + release * G_GAS * F_GAS + calf_g
                st_TA = S0 + G_TA * _p(l_TA - l_off_TA) - G_SOLTA * F_SOL
                knee_term = knee - knee_off if (knee > knee_off and knee_dot > 0.0) else 0.0
                st_VAS = S0_VAS + release * G_VAS * F_VAS - k_phi * knee_term - k_bw * load_c * ds_f
                u = kp * (theta - theta_ref) + kd * theta_dot
                scale = k_bw * max(load, 0.0)
                st_GLU = S0_BAL + _p(u) * scale - dS * ds_f
                st_HAM = S0_BAL + _p(u) * scale
                st_HFL = S0_BAL + _p(-u) * scale + dS * ds_f
                # swing laws
                if trunk_initiated:
                    lean_drive = k_trunk * _p(theta - theta_ref)
                else:
                    lean_drive = k_lean * (theta_to - theta_ref)
                sw_HFL = S0 + lean_drive + G_HFL * _p(l_HFL - l_off_HFL) - G_HAMHFL * _p(l_HAM - l_off_HAM)
                sw_HAM = S0 + G_HAM * F_HAM
                sw_GLU = S0 + G_GLU * F_GLU
                sw_TA = S0 + G_TA * _p(l_TA - l_off_TA)
                sw_RF = S0 + G_RF * _p(-knee_dot)
                if trunk_initiated and pre:
                    pre_drive = k_trunk * _p(theta - theta_ref) + G_sway * _p(sway - sway_threshold)
                    st_HFL = st_HFL + pre_drive + G_HFL * _p(l_HFL - l_off_HFL)
                o = _NLM * leg
                hfl = st_HFL if stance else sw_HFL
                exc[o + _PSOAS, b] = hfl
                exc[o + _ILIACUS, b] = hfl
                exc[o + _GLU, b] = st_GLU if stance else sw_GLU
                exc[o + _HAM, b] = st_HAM if stance else sw_HAM
                exc[o + _RF, b] = S0 if stance else sw_RF
                exc[o + _VAS, b] = st_VAS if stance else S0
                exc[o + _GAS, b] = st_GAS if stance else S0
                exc[o + _SOL, b] = st_SOL if stance else S0
                exc[o + _TA, b] = st_TA if stance else sw_TA
                memory[ph0 + leg, b] = new_phase
                memory[ph0 + 2 + leg, b] = new_trailing
                memory[ph0 + 4 + leg, b] = new_theta_to
            u_l = kp_L * (theta - theta_ref) + kd_L * theta_dot + kq_L * (-d[2] - lumbar_ref)
            exc[N_MUSCLES - 2, b] = S0_L + _p(u_l)  # erector spinae
            exc[N_MUSCLES - 1, b] = S0_L + _p(-u_l)  # abdominals
            for m in range(N_MUSCLES):
                exc[m, b] = min(max(exc[m, b], _MIN_EXC), 1.0)


def reflex_excitation(ctrl, t: float, fs, memory) -> np.ndarray:
    """Compiled ``ReflexController.__call__`` (excitation (n_muscles, B); ``memory`` updated in place)."""
    require()
    nb = fs.q.shape[1]
    inputs = getattr(ctrl, "_compiled_inputs", None)
    if inputs is None or inputs[0].shape[0] != nb:  # made once per controller set-up, not per step
        gains = np.ascontiguousarray(np.stack([ctrl.g[n] for n in _KERNEL_GAIN_ORDER], axis=1))
        inputs = (gains, np.ascontiguousarray(ctrl._vmax), ctrl.line.steps.astype(np.int64))
        ctrl._compiled_inputs = inputs
    gains, v_scale, delay_steps = inputs
    exc = np.empty((fs.force.shape[0], nb))
    line = ctrl.line
    _reflex_kernel(line.step_index(t), ctrl.mode == "trunk_initiated", gains, fs.force,
                   fs.fiber_length_norm, fs.fiber_velocity, fs.fn, fs.sphere_pos, fs.psi, fs.psidot, fs.q, fs.qdot,
                   ctrl._fmax, v_scale, ctrl._bw, delay_steps, line.n_slots, line.size, memory, exc)
    return exc
