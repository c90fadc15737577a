"""Compiled reflex law (``reflex.ReflexController.__call__``), selected by ``ReflexController(backend="numba")``.

The controller hands the kernel plain arrays in a ``ReflexKernelInputs`` record (``reflex_inputs``:
gains in a table whose rows the kernel reads by name, ``GAIN``; muscle constants, delay-line
layout); this module never sees the controller.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..names import COORDINATES, LEG_MUSCLES, MUSCLES, N_MUSCLES
from ..reflex_gains import ReflexGains
from ._numba import _row_length, njit, numba, require, row_length
from .physics import kernel_forces

#: the row of each gain in the kernel's gain table (``ReflexKernelInputs.gains``), by name, in
#: ``ReflexGains`` field order: the kernel reads ``gains[GAIN.G_SOL, b]`` (a compile-time constant)
ReflexGainIndex = NamedTuple("ReflexGainIndex", [(name, int) for name in ReflexGains.names()])
GAIN = ReflexGainIndex(*range(len(ReflexGainIndex._fields)))


#: signal rows the kernel writes (by number); equals ReflexController.SIGNALS (checked by tests/test_compiled.py)
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
_ERECTOR_SPINAE, _ABDOMINALS = MUSCLES.index("erector_spinae"), MUSCLES.index("abdominals")
_KNEE_STRIDE = COORDINATES.index("knee_angle_l") - _KNEE_R


if numba is not None:
    from ..muscles import MIN_EXCITATION as _MIN_EXC

    @njit(cache=True, inline="always", error_model="numpy")
    def _p(x):
        return max(x, 0.0)

    @njit(cache=True, error_model="numpy")
    def _reflex_kernel(step, trunk_initiated, gains, force, l_norm, v_ce, fn, sphere_pos, psi, psidot, q, qdot,
                       f_max, v_scale, bw, delay_steps, n_slots, n_line, memory, exc):
        """The reflex law at delay-line step ``step``: excitations into ``exc`` (n_muscles, B),
        ``memory`` updated in place. gains: (n_gains, row_length(B)), rows ``GAIN``. Loops run
        with the batch innermost (vectorized across walkers)."""
        nb = q.shape[1]
        rows = _row_length(nb)  # padded rows of the temporaries (cache sets)
        n_sig = delay_steps.shape[0]
        sig = np.empty((n_sig, rows))
        d = np.empty((n_sig, rows))
        touchdown = np.empty((2, rows), dtype=np.bool_)
        ds_any = np.zeros(rows)  # 1 while either leg trails in double support (erector spinae drive)
        # --- sensors (ReflexController._signals), rows in SIGNALS order ---
        for b in range(nb):
            sig[0, b] = -psi[3, b]
            sig[1, b] = -psidot[3, b]
            sig[2, b] = q[_LUMBAR_ROW, b]
            sig[3, b] = qdot[_LUMBAR_ROW, b]
        for leg in range(2):
            o = _NLM * leg  # this leg's block of muscles
            for b in range(nb):
                sig[4 + leg, b] = (fn[leg, 0, b] + fn[leg, 1, b]) / bw[b]
                foot_x = 0.5 * (sphere_pos[0, leg, 0, b] + sphere_pos[0, leg, 1, b])
                sig[6 + leg, b] = psi[0, b] - foot_x
                sig[8 + leg, b] = l_norm[o + _PSOAS, b]
                sig[10 + leg, b] = l_norm[o + _HAM, b]
                sig[12 + leg, b] = force[o + _HAM, b] / f_max[o + _HAM, b]
                sig[14 + leg, b] = force[o + _GLU, b] / f_max[o + _GLU, b]
                sig[16 + leg, b] = force[o + _VAS, b] / f_max[o + _VAS, b]
                sig[18 + leg, b] = q[_KNEE_R + _KNEE_STRIDE * leg, b]
                sig[20 + leg, b] = qdot[_KNEE_R + _KNEE_STRIDE * leg, b]
                sig[22 + leg, b] = force[o + _SOL, b] / f_max[o + _SOL, b]
                sig[24 + leg, b] = force[o + _GAS, b] / f_max[o + _GAS, b]
                sig[26 + leg, b] = l_norm[o + _TA, b]
                sig[28 + leg, b] = l_norm[o + _SOL, b]
                sig[30 + leg, b] = l_norm[o + _GAS, b]
                sig[32 + leg, b] = v_ce[o + _SOL, b] / v_scale[o + _SOL, b]
                sig[34 + leg, b] = v_ce[o + _GAS, b] / v_scale[o + _GAS, b]
        # --- delay line (control.DelayLine.push): read step - steps[i], then write this step ---
        slot = step % n_slots
        for i in range(n_sig):
            row = ((step - delay_steps[i]) % n_slots) * n_sig + i
            for b in range(nb):
                d[i, b] = memory[row, b]
        for i in range(n_sig):
            row = slot * n_sig + i
            for b in range(nb):
                memory[row, b] = sig[i, b]
        # --- phase transitions: both legs' touchdowns first (each leg needs the other's) ---
        ph0 = n_line  # memory rows after the line: phase r, l, trailing r, l, theta_TO r, l
        for leg in range(2):
            for b in range(nb):
                touchdown[leg, b] = memory[ph0 + leg, b] < 1.0 and d[4 + leg, b] > gains[GAIN.stance_on, b]
        for leg in range(2):
            c = 1 - leg
            o = _NLM * leg
            for b in range(nb):
                S0 = gains[GAIN.S0, b]
                G_SOL = gains[GAIN.G_SOL, b]
                G_TA = gains[GAIN.G_TA, b]
                l_off_TA = gains[GAIN.l_off_TA, b]
                G_SOLTA = gains[GAIN.G_SOLTA, b]
                G_GAS = gains[GAIN.G_GAS, b]
                S0_VAS = gains[GAIN.S0_VAS, b]
                G_VAS = gains[GAIN.G_VAS, b]
                k_phi = gains[GAIN.k_phi, b]
                knee_off = gains[GAIN.knee_off, b]
                k_bw = gains[GAIN.k_bw, b]
                dS = gains[GAIN.dS, b]
                kp = gains[GAIN.kp, b]
                kd = gains[GAIN.kd, b]
                S0_BAL = gains[GAIN.S0_BAL, b]
                theta_ref = gains[GAIN.theta_ref, b]
                G_HFL = gains[GAIN.G_HFL, b]
                l_off_HFL = gains[GAIN.l_off_HFL, b]
                k_lean = gains[GAIN.k_lean, b]
                G_HAMHFL = gains[GAIN.G_HAMHFL, b]
                l_off_HAM = gains[GAIN.l_off_HAM, b]
                G_HAM = gains[GAIN.G_HAM, b]
                G_GLU = gains[GAIN.G_GLU, b]
                G_RF = gains[GAIN.G_RF, b]
                G_CS = gains[GAIN.calf_stretch_gain, b]
                l_off_CS = gains[GAIN.l_off_CS, b]
                G_CSV = gains[GAIN.calf_stretch_velocity_gain, b]
                k_trunk = gains[GAIN.k_trunk, b]
                G_sway = gains[GAIN.G_sway, b]
                sway_threshold = gains[GAIN.sway_threshold, b]
                transfer_load = gains[GAIN.transfer_load, b]
                stance_on = gains[GAIN.stance_on, b]
                stance_off = gains[GAIN.stance_off, b]
                calf_keep = min(max(gains[GAIN.pre_swing_calf_keep, b], 0.0), 1.0)
                theta, theta_dot = d[0, b], d[1, b]
                phase = memory[ph0 + leg, b]
                trailing = memory[ph0 + 2 + leg, b]
                theta_to = memory[ph0 + 4 + leg, b]
                load, load_c, sway = d[4 + leg, b], d[4 + c, b], d[6 + leg, b]
                in_stance = phase >= 1.0
                liftoff = in_stance and load < stance_off
                new_phase = 1.0 if touchdown[leg, b] else (0.0 if liftoff else phase)
                # selects rather than if/else blocks, so the loop vectorizes
                new_trailing = (0.0 if (liftoff or not new_phase >= 1.0)
                                else (1.0 if (touchdown[c, b] and in_stance) else trailing))
                new_theta_to = theta if liftoff else theta_to
                start_pre = trunk_initiated and new_phase == 1.0 and sway > sway_threshold and load_c > transfer_load
                new_phase = 2.0 if start_pre else new_phase
                stance = new_phase >= 1.0
                pre = new_phase == 2.0
                ds_f = 1.0 if (new_trailing > 0.0 and stance and load_c > stance_on) else 0.0
                ds_any[b] = max(ds_any[b], ds_f)
                F_SOL, F_GAS, F_VAS = d[22 + leg, b], d[24 + leg, b], d[16 + leg, b]
                F_HAM, F_GLU = d[12 + leg, b], d[14 + leg, b]
                l_TA, l_HFL, l_HAM = d[26 + leg, b], d[8 + leg, b], d[10 + leg, b]
                l_SOL, l_GAS, v_SOL, v_GAS = d[28 + leg, b], d[30 + leg, b], d[32 + leg, b], d[34 + leg, b]
                knee, knee_dot = d[18 + leg, b], d[20 + leg, b]
                release = 0.0 if pre else 1.0
                release_calf = calf_keep if pre else 1.0
                # stance laws
                calf = G_CS * _p(l_SOL - l_off_CS) + G_CSV * _p(v_SOL)
                calf_g = G_CS * _p(l_GAS - l_off_CS) + G_CSV * _p(v_GAS)
                st_SOL = S0 + release_calf * G_SOL * F_SOL + calf
                st_GAS = S0 + release_calf * G_GAS * F_GAS + calf_g
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
                pre_drive = k_trunk * _p(theta - theta_ref) + G_sway * _p(sway - sway_threshold)
                st_HFL = st_HFL + pre_drive + G_HFL * _p(l_HFL - l_off_HFL) if (trunk_initiated and pre) else st_HFL
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
        for b in range(nb):
            u_l = (gains[GAIN.kp_L, b] * (d[0, b] - gains[GAIN.theta_ref, b]) + gains[GAIN.kd_L, b] * d[1, b]
                   + gains[GAIN.kq_L, b] * (-d[2, b] - gains[GAIN.lumbar_ref, b]))
            exc[_ERECTOR_SPINAE, b] = gains[GAIN.S0_L, b] + _p(u_l) + gains[GAIN.G_ES_DS, b] * ds_any[b]
            exc[_ABDOMINALS, b] = gains[GAIN.G_ABS, b] * (gains[GAIN.abs_tone, b] * gains[GAIN.S0_L, b] + _p(-u_l))
        for m in range(N_MUSCLES):
            for b in range(nb):
                exc[m, b] = min(max(exc[m, b], _MIN_EXC), 1.0)


class ReflexKernelInputs(NamedTuple):
    """What the compiled reflex law reads besides the sensors, fixed over a run (batch-last)."""

    gains: np.ndarray  # (n_gains, row_length(B)): row GAIN.<name> holds that gain, padded rows
    trunk_initiated: bool  # the controller's mode
    f_max: np.ndarray  # (n_muscles, B) N
    v_scale: np.ndarray  # (n_muscles, B) m/s: maximal shortening velocity v_max * l_opt
    body_weight: np.ndarray  # (B,) N
    delay_steps: np.ndarray  # (n_signals,) int64: each signal's delay in steps
    n_slots: int  # delay-line slots per signal
    line_size: int  # rows of the delay line in the memory


def reflex_inputs(gains: dict, trunk_initiated: bool, f_max, v_scale, body_weight, delay_steps, n_slots: int,
                  line_size: int) -> ReflexKernelInputs:
    """The kernel's record from gains by name ({name: (B,)}, exactly the names of
    ``ReflexGains``) and the controller's constants; ValueError naming missing or unknown gains."""
    names = ReflexGainIndex._fields
    missing = [n for n in names if n not in gains]
    unknown = [n for n in gains if n not in names]
    if missing or unknown:
        raise ValueError(f"compiled reflex: gains missing {missing} / unknown {unknown}; the kernel reads "
                         f"{', '.join(names)}")
    nb = np.shape(body_weight)[0]
    table = np.empty((len(names), row_length(nb)))  # padded rows: see _numba.row_length
    table[:, :nb] = np.stack([np.broadcast_to(gains[n], (nb,)) for n in names], axis=0)
    return ReflexKernelInputs(table, bool(trunk_initiated), np.ascontiguousarray(f_max),
                              np.ascontiguousarray(v_scale), np.ascontiguousarray(body_weight),
                              np.asarray(delay_steps, dtype=np.int64), int(n_slots), int(line_size))


def reflex_excitation(inputs: ReflexKernelInputs, step_index: int, forces, memory) -> np.ndarray:
    """Compiled ``ReflexController.__call__``: excitation (n_muscles, B) at delay-line step
    ``step_index``; ``memory`` (the delay line and phase rows) is updated in place."""
    require()
    nb = forces.q.shape[1]
    exc = np.empty((forces.force.shape[0], nb))
    arrays = kernel_forces(forces)
    _reflex_kernel(step_index, inputs.trunk_initiated, inputs.gains, arrays.force, arrays.fiber_length_norm,
                   arrays.fiber_velocity, arrays.fn, arrays.sphere_pos, arrays.psi, arrays.psidot, forces.q,
                   forces.qdot, inputs.f_max, inputs.v_scale, inputs.body_weight, inputs.delay_steps, inputs.n_slots,
                   inputs.line_size, memory, exc)
    return exc
