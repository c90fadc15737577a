"""Reflex walking controllers: Geyer & Herr 2010 (leg-driven) and a trunk-initiated variant.

Both run the same per-leg gait-phase state machine on delayed sensory signals and share
the stance and swing reflex laws of Geyer & Herr 2010 (IEEE TNSRE 18:263, as ported by SCONE and the CMU
Python model):

stance (per leg; F~ = force/F_max, l~ = fibre length/l_opt, F_i, F_c = ipsi-/contralateral leg
load in body weights, DS = 1 on the trailing leg in double support):

* S_SOL = S0 + G_SOL F~_SOL + calf stretch reflex;  S_GAS = S0 + G_GAS F~_GAS + calf stretch reflex
* S_TA  = S0 + G_TA [l~_TA - l_off,TA]+ - G_SOLTA F~_SOL
* S_VAS = S0_VAS + G_VAS F~_VAS - k_phi [knee - knee_off]+ (while extending) - k_bw F_c DS
* trunk balance u = kp (theta - theta_ref) + kd theta_dot (theta: trunk lean, forward +):
  S_GLU = S0_BAL + [u]+ k_bw F_i - dS DS;  S_HAM = S0_BAL + [u]+ k_bw F_i;
  S_HFL = S0_BAL + [-u]+ k_bw F_i + dS DS

swing:

* S_HFL = S0 + k_lean (theta_TO - theta_ref) + G_HFL [l~_HFL - l_off,HFL]+ - G_HAMHFL [l~_HAM - l_off,HAM]+
* S_HAM = S0 + G_HAM F~_HAM;  S_GLU = S0 + G_GLU F~_GLU;  S_TA = S0 + G_TA [l~_TA - l_off,TA]+
* S_RF = S0 + G_RF [-knee_dot]+ (knee-flexion damping, after Song & Geyer 2015's RF module M8)

HFL drives both psoas and iliacus. Extensions (both controllers, gains may be zero):

* calf stretch reflex ("spring in the step"): in stance, soleus and gastrocnemius get
  ``G_CS [l~ - l_off,CS]+ + G_CSV [v~]+`` (length and lengthening-velocity feedback); scenarios
  blunt it through ``calf_stretch_gain``/``calf_stretch_velocity_gain``;
* lumbar control: erector spinae and abdominals hold the trunk on the pelvis,
  ``u_L = kp_L (theta - theta_ref) + kd_L theta_dot + kq_L (-lumbar - lumbar_ref)``,
  S_ES = S0_L + [u_L]+, S_ABS = G_ABS (abs_tone S0_L + [-u_L]+) (G_ABS = abs_tone = 1: the
  symmetric law, in which the pre-stimulation S0_L co-activates both; G_ABS < 1 quietens the
  abdominals' whole drive, abs_tone < 1 only their tonic part, which the erector spinae otherwise
  have to balance). ``G_ES_DS`` adds a double-support drive to the erector spinae,
  ``S_ES += G_ES_DS DS`` (DS = 1 while either leg is the trailing leg of a double support, from
  the delayed leg loads): measured paraspinal activity starts 13 +/- 25 ms after heel contact
  (Olson 2018, Sports Med Rehabil J 3:1038) and bursts around each heel strike and at ipsilateral
  toe-off (Cappozzo 1984, J Orthop Res 1:292), the two double supports, where a trunk-angle law
  answers only after the trunk has pitched (default 0: off).

``mode="trunk_initiated"`` (Ida Rolf's trunk-initiated gait) changes how swing starts and is
driven: a stance leg enters *pre-swing* when the pelvis has swayed forward past its foot by
``sway_threshold`` (m) while the other leg carries at least ``transfer_load`` body weights;
in pre-swing and swing the hip flexors are driven by the current trunk lean and the sway,
``S_HFL += k_trunk [theta - theta_ref]+ + G_sway [sway - sway_threshold]+``, and the stance
extensors' positive force feedback is released: the vasti's fully, the calves' down to the
fraction ``pre_swing_calf_keep`` (0: fully; 1: the calves
keep pushing through pre-swing, the "spring in the step" carried to toe-off; clipped to [0, 1]).
``mode="geyer_herr"`` keeps the published load-triggered transitions and the take-off lean term.

Neural delays (Geyer & Herr 2010 [GH-C]): 5 ms for hip and trunk signals and leg load,
10 ms for knee signals, 20 ms for ankle signals. Stance is detected from the delayed leg
load with hysteresis (on above ``stance_on``, off below ``stance_off`` body weights), which
suppresses the flicker of stance detection when a foot touches lightly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .control import MIN_EXCITATION, ControlOutput, DelayLine
from .model import Model
from .names import COORDINATES, LEG_MUSCLES, N_MUSCLES
from .reflex_gains import ReflexGains

_LM = {m: i for i, m in enumerate(LEG_MUSCLES)}
N_LEG_MUSCLES = len(LEG_MUSCLES)
ERECTOR_SPINAE, ABDOMINALS = N_MUSCLES - 2, N_MUSCLES - 1  # rows of the trunk muscles in names.MUSCLES
_KNEE = (COORDINATES.index("knee_angle_r"), COORDINATES.index("knee_angle_l"))
_LUMBAR = COORDINATES.index("lumbar")
MODES = ("geyer_herr", "trunk_initiated")

SHORT, MEDIUM, LONG = 0.005, 0.010, 0.020  # s, [GH-C] nms_model_ControlInit.m


def _pos(x):
    """[x]+ = max(x, 0)."""
    return np.maximum(x, 0.0)


@dataclass
class ReflexController:
    """Batched reflex controller (see module docstring).

    gains: ``ReflexGains`` or a {name: scalar or (B,) array} dict overriding the defaults.
    mode: ``"geyer_herr"`` or ``"trunk_initiated"``. backend: ``"auto"`` (default: numba when it
    imports, else numpy; the field then holds the backend chosen), ``"numpy"`` (reference) or
    ``"numba"`` (``gaitsim.compiled.reflex_excitation``, the same law compiled).
    The delay lines count integration steps: ``simulate`` hands the controller its solver's step
    (``bind_step``) before the initial memory. dt: None (default) takes that step; a step (s)
    given here binds the controller to it at once, and a solver with another step is refused.
    """

    gains: object = None
    mode: str = "trunk_initiated"
    dt: float | None = None
    backend: str = "auto"
    memory_size: int = field(default=0, init=False)

    # signal rows in the delay line: (name, delay)
    SIGNALS = (
        ("theta", SHORT), ("theta_dot", SHORT), ("lumbar", SHORT), ("lumbar_dot", SHORT),
        ("load_r", SHORT), ("load_l", SHORT), ("sway_r", SHORT), ("sway_l", SHORT),
        ("l_HFL_r", SHORT), ("l_HFL_l", SHORT), ("l_HAM_r", SHORT), ("l_HAM_l", SHORT),
        ("F_HAM_r", SHORT), ("F_HAM_l", SHORT), ("F_GLU_r", SHORT), ("F_GLU_l", SHORT),
        ("F_VAS_r", MEDIUM), ("F_VAS_l", MEDIUM), ("knee_r", MEDIUM), ("knee_l", MEDIUM),
        ("knee_dot_r", MEDIUM), ("knee_dot_l", MEDIUM),
        ("F_SOL_r", LONG), ("F_SOL_l", LONG), ("F_GAS_r", LONG), ("F_GAS_l", LONG),
        ("l_TA_r", LONG), ("l_TA_l", LONG), ("l_SOL_r", LONG), ("l_SOL_l", LONG),
        ("l_GAS_r", LONG), ("l_GAS_l", LONG), ("v_SOL_r", LONG), ("v_SOL_l", LONG),
        ("v_GAS_r", LONG), ("v_GAS_l", LONG),
    )
    # phase memory rows after the delay line: phase (0 swing, 1 stance, 2 pre-swing), trailing, theta_TO
    N_PHASE = 6

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"ReflexController.mode must be one of {MODES}, got {self.mode!r}")
        from .compiled import resolve_backend

        self.backend = resolve_backend(self.backend, "ReflexController.backend")
        self._check_gain_names()
        if self.backend == "numba":
            from .compiled import reflex_excitation

            self._compiled = reflex_excitation
        self._row = {name: i for i, (name, _) in enumerate(self.SIGNALS)}
        self.line = None  # the delay line, made by bind_step
        if self.dt is not None:
            self.bind_step(self.dt)

    def bind_step(self, dt: float) -> None:
        """Take the integration step ``dt`` (s) the delay lines count in (``simulate`` hands over its
        solver's step; see ``control.bind_step``). A controller built with ``dt`` takes only that step."""
        if self.dt is not None:
            if not np.isclose(self.dt, dt, rtol=1e-9, atol=0.0):
                raise ValueError(f"dt: the controller's delay lines count steps of ReflexController.dt = {self.dt} s, "
                                 f"but the solver steps dt = {dt} s; build the controller without dt (it then takes "
                                 f"the solver's step)")
            dt = self.dt
        self.line = DelayLine([d for _, d in self.SIGNALS], dt)
        self.memory_size = self.line.size + self.N_PHASE

    @property
    def step_size(self) -> float | None:
        """The integration step (s) the delay lines count in; None until ``bind_step``."""
        return None if self.line is None else self.line.dt

    # ----- set-up -------------------------------------------------------------------------------
    def _check_gain_names(self) -> None:
        """Unknown names in a gains dict raise at construction, with the closest known name."""
        if self.gains is None or isinstance(self.gains, ReflexGains):
            return
        if not isinstance(self.gains, dict):
            raise ValueError(f"ReflexController.gains must be a ReflexGains or a dict of gain name -> value, "
                             f"got {type(self.gains).__name__}")
        import difflib

        for k in self.gains:
            if k not in ReflexGains.names():
                near = difflib.get_close_matches(str(k), ReflexGains.names(), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise ValueError(f"unknown reflex gain {k!r}{hint}; allowed: {', '.join(ReflexGains.names())}")

    def _gain_arrays(self, batch: int) -> dict[str, np.ndarray]:
        base = ReflexGains() if not isinstance(self.gains, ReflexGains) else self.gains
        values = {n: getattr(base, n) for n in ReflexGains.names()}
        if isinstance(self.gains, dict):
            for k, v in self.gains.items():
                if k not in values:
                    raise ValueError(f"unknown reflex gain {k!r}; allowed: {', '.join(ReflexGains.names())}")
                values[k] = v
        out = {}
        for k, v in values.items():
            a = np.asarray(v, dtype=float)
            if a.shape not in ((), (batch,)):
                raise ValueError(f"reflex gain {k}: expected a scalar or ({batch},), got shape {a.shape}")
            if not np.all(np.isfinite(a)):
                raise ValueError(f"reflex gain {k}: values must be finite")
            out[k] = np.broadcast_to(a, (batch,)).astype(float)
        if np.any(out["stance_off"] >= out["stance_on"]):
            raise ValueError("reflex gains: stance_off must be below stance_on (body weights)")
        return out

    def initial_memory(self, model: Model, q: np.ndarray, qdot: np.ndarray) -> np.ndarray:
        b = model.batch_size
        self.g = self._gain_arrays(b)
        if self.line is None:
            raise ValueError("ReflexController has no integration step yet: simulate hands it the solver's step; "
                             "outside simulate call bind_step(dt) first (or build it with dt=)")
        self._kernel_inputs = None  # the compiled backend's record of gains and constants, made on first use
        self._fmax = model.muscles.f_max
        self._lopt = model.muscles.l_opt
        self._vmax = model.muscles.v_max * model.muscles.l_opt
        self._bw = model.body_weight
        # Start from the initial contact configuration: a leg whose lowest sphere is within
        # 5 mm of the ground is in stance (load shared between stance legs); with both feet down
        # the rear foot is the trailing leg. Muscle signals start at optimal length, zero force.
        sig = np.zeros((len(self.SIGNALS), b))
        for name in ("l_HFL_r", "l_HFL_l", "l_HAM_r", "l_HAM_l", "l_TA_r", "l_TA_l", "l_SOL_r", "l_SOL_l",
                     "l_GAS_r", "l_GAS_l"):
            sig[self._row[name]] = 1.0
        stance, trailing = self._initial_contact(model, q)
        sig[self._row["load_r"]] = sig[self._row["load_l"]] = 0.0
        share = 1.0 / np.maximum(stance.sum(axis=0), 1)
        sig[self._row["load_r"]] = stance[0] * share
        sig[self._row["load_l"]] = stance[1] * share
        mem = np.zeros((self.memory_size, b))
        mem[: self.line.size] = self.line.initial_memory(sig)
        ph = mem[self.line.size:].reshape(3, 2, b)
        ph[0] = stance
        ph[1] = trailing
        return mem

    @staticmethod
    def _initial_contact(model: Model, q: np.ndarray):
        """(stance, trailing) flags (2 legs, B) from batch-last coordinates q (10, B)."""
        from .state import sphere_kinematics

        pos, _ = sphere_kinematics(model, q)
        bottom = (pos[1] - model.contact.radius).min(axis=1)  # (2 legs, B)
        stance = (bottom < 0.005).astype(float)
        foot_x = pos[0].mean(axis=1)
        both = (stance[0] > 0) & (stance[1] > 0)
        trailing = np.zeros_like(stance)
        trailing[0] = both & (foot_x[0] < foot_x[1])
        trailing[1] = both & (foot_x[1] < foot_x[0])
        return stance, trailing

    # ----- sensing --------------------------------------------------------------------------------
    def _signals(self, sensors) -> np.ndarray:
        b = sensors.q.shape[1]
        f = sensors.force / self._fmax
        ln = sensors.fiber_length_norm
        vn = sensors.fiber_velocity / self._vmax
        load = sensors.grf[1] / self._bw  # (2 legs, B), vertical
        foot_x = 0.5 * (sensors.sphere_pos[0, :, 0] + sensors.sphere_pos[0, :, 1])  # (2 legs, B) mid heel-ball
        sway = sensors.psi[0] - foot_x
        L = N_LEG_MUSCLES

        def legs(arr, muscle):  # rows of one muscle on both legs (a view: r at k, l at k + L)
            k = _LM[muscle]
            return arr[k:k + L + 1:L]

        rows = np.empty((len(self.SIGNALS), b))
        rows[0] = -sensors.psi[3]  # trunk lean, forward positive
        rows[1] = -sensors.psidot[3]
        rows[2] = sensors.q[_LUMBAR]
        rows[3] = sensors.qdot[_LUMBAR]
        rows[4:6] = load
        rows[6:8] = sway
        rows[8:10] = legs(ln, "psoas")
        rows[10:12] = legs(ln, "hamstrings")
        rows[12:14] = legs(f, "hamstrings")
        rows[14:16] = legs(f, "glut_max")
        rows[16:18] = legs(f, "vasti")
        rows[18:20] = sensors.q[_KNEE[0]:_KNEE[1] + 1:_KNEE[1] - _KNEE[0]]
        rows[20:22] = sensors.qdot[_KNEE[0]:_KNEE[1] + 1:_KNEE[1] - _KNEE[0]]
        rows[22:24] = legs(f, "soleus")
        rows[24:26] = legs(f, "gastroc")
        rows[26:28] = legs(ln, "tib_ant")
        rows[28:30] = legs(ln, "soleus")
        rows[30:32] = legs(ln, "gastroc")
        rows[32:34] = legs(vn, "soleus")
        rows[34:36] = legs(vn, "gastroc")
        return rows

    # ----- control law ----------------------------------------------------------------------------
    def __call__(self, t, sensors, memory):
        if self.backend == "numba":
            if self._kernel_inputs is None or self._kernel_inputs.body_weight.shape[0] != sensors.q.shape[1]:
                from .compiled.reflex import reflex_inputs

                self._kernel_inputs = reflex_inputs(self.g, self.mode == "trunk_initiated", self._fmax, self._vmax,
                                                    self._bw, self.line.steps, self.line.n_slots, self.line.size)
            return ControlOutput(self._compiled(self._kernel_inputs, self.line.step_index(t), sensors, memory),
                                 memory=memory)
        g = self.g
        delayed = self.line.push(memory[: self.line.size], self._signals(sensors), self.line.step_index(t))
        ph = memory[self.line.size:].reshape(3, 2, -1)  # phase, trailing, theta_TO per leg
        phase, trailing, theta_to = ph[0], ph[1], ph[2]
        row = self._row
        theta, theta_dot = delayed[row["theta"]], delayed[row["theta_dot"]]
        load = delayed[row["load_r"]:row["load_r"] + 2]
        load_c = load[::-1]
        sway = delayed[row["sway_r"]:row["sway_r"] + 2]

        # --- phase transitions (hysteresis on the delayed load) ---
        in_stance = phase >= 1.0
        touchdown = ~in_stance & (load > g["stance_on"])
        liftoff = in_stance & (load < g["stance_off"])
        new_phase = np.where(touchdown, 1.0, np.where(liftoff, 0.0, phase))
        other_td = touchdown[::-1]
        new_trailing = np.where(liftoff | ~(new_phase >= 1.0), 0.0, np.where(other_td & in_stance, 1.0, trailing))
        new_theta_to = np.where(liftoff, theta, theta_to)
        if self.mode == "trunk_initiated":
            start_pre = (new_phase == 1.0) & (sway > g["sway_threshold"]) & (load_c > g["transfer_load"])
            new_phase = np.where(start_pre, 2.0, new_phase)
        stance = new_phase >= 1.0
        pre = new_phase == 2.0
        ds = (new_trailing > 0.0) & stance & (load_c > g["stance_on"])
        ds_f = ds.astype(float)

        # --- delayed muscle signals per leg ---
        def pair(name):  # (2 legs, B) view; the _r and _l rows are adjacent
            k = row[f"{name}_r"]
            return delayed[k:k + 2]

        F_SOL, F_GAS, F_VAS, F_HAM, F_GLU = pair("F_SOL"), pair("F_GAS"), pair("F_VAS"), pair("F_HAM"), pair("F_GLU")
        l_TA, l_HFL, l_HAM = pair("l_TA"), pair("l_HFL"), pair("l_HAM")
        l_SOL, l_GAS, v_SOL, v_GAS = pair("l_SOL"), pair("l_GAS"), pair("v_SOL"), pair("v_GAS")
        knee, knee_dot = pair("knee"), pair("knee_dot")
        S0 = g["S0"]
        pos = _pos
        release = np.where(pre, 0.0, 1.0)  # trunk-initiated pre-swing releases stance F+ ...
        release_calf = np.where(pre, np.clip(g["pre_swing_calf_keep"], 0.0, 1.0), 1.0)  # ... the calves' in part

        # stance laws
        calf = g["calf_stretch_gain"] * pos(l_SOL - g["l_off_CS"]) + g["calf_stretch_velocity_gain"] * pos(v_SOL)
        calf_g = g["calf_stretch_gain"] * pos(l_GAS - g["l_off_CS"]) + g["calf_stretch_velocity_gain"] * pos(v_GAS)
        st_SOL = S0 + release_calf * g["G_SOL"] * F_SOL + calf
        st_GAS = S0 + release_calf * g["G_GAS"] * F_GAS + calf_g
        st_TA = S0 + g["G_TA"] * pos(l_TA - g["l_off_TA"]) - g["G_SOLTA"] * F_SOL
        knee_ext = (knee > g["knee_off"]) & (knee_dot > 0.0)
        st_VAS = (g["S0_VAS"] + release * g["G_VAS"] * F_VAS - g["k_phi"] * np.where(knee_ext, knee - g["knee_off"], 0.0)
                  - g["k_bw"] * load_c * ds_f)
        u = g["kp"] * (theta - g["theta_ref"]) + g["kd"] * theta_dot
        scale = g["k_bw"] * np.clip(load, 0.0, None)
        st_GLU = g["S0_BAL"] + pos(u) * scale - g["dS"] * ds_f
        st_HAM = g["S0_BAL"] + pos(u) * scale
        st_HFL = g["S0_BAL"] + pos(-u) * scale + g["dS"] * ds_f

        # swing laws
        lean_drive = (g["k_lean"] * (theta_to - g["theta_ref"]) if self.mode == "geyer_herr"
                      else g["k_trunk"] * pos(theta - g["theta_ref"]))
        sw_HFL = (S0 + lean_drive + g["G_HFL"] * pos(l_HFL - g["l_off_HFL"])
                  - g["G_HAMHFL"] * pos(l_HAM - g["l_off_HAM"]))
        sw_HAM = S0 + g["G_HAM"] * F_HAM
        sw_GLU = S0 + g["G_GLU"] * F_GLU
        sw_TA = S0 + g["G_TA"] * pos(l_TA - g["l_off_TA"])
        sw_RF = S0 + g["G_RF"] * pos(-knee_dot)

        if self.mode == "trunk_initiated":  # pre-swing: swing drive of the hip flexors starts in stance
            pre_drive = g["k_trunk"] * pos(theta - g["theta_ref"]) + g["G_sway"] * pos(sway - g["sway_threshold"])
            st_HFL = np.where(pre, st_HFL + pre_drive + g["G_HFL"] * pos(l_HFL - g["l_off_HFL"]), st_HFL)

        nb = theta.shape[0]
        exc = np.empty((N_MUSCLES, nb))
        legs = exc[: 2 * N_LEG_MUSCLES].reshape(2, N_LEG_MUSCLES, nb)
        HFL = np.where(stance, st_HFL, sw_HFL)
        legs[:, _LM["psoas"]] = HFL
        legs[:, _LM["iliacus"]] = HFL
        legs[:, _LM["glut_max"]] = np.where(stance, st_GLU, sw_GLU)
        legs[:, _LM["hamstrings"]] = np.where(stance, st_HAM, sw_HAM)
        legs[:, _LM["rect_fem"]] = np.where(stance, S0, sw_RF)
        legs[:, _LM["vasti"]] = np.where(stance, st_VAS, S0)
        legs[:, _LM["gastroc"]] = np.where(stance, st_GAS, S0)
        legs[:, _LM["soleus"]] = np.where(stance, st_SOL, S0)
        legs[:, _LM["tib_ant"]] = np.where(stance, st_TA, sw_TA)
        u_l = (g["kp_L"] * (theta - g["theta_ref"]) + g["kd_L"] * theta_dot
               + g["kq_L"] * (-delayed[row["lumbar"]] - g["lumbar_ref"]))
        exc[ERECTOR_SPINAE] = g["S0_L"] + pos(u_l) + g["G_ES_DS"] * ds.any(axis=0)
        exc[ABDOMINALS] = g["G_ABS"] * (g["abs_tone"] * g["S0_L"] + pos(-u_l))
        np.clip(exc, MIN_EXCITATION, 1.0, out=exc)

        ph[0], ph[1], ph[2] = new_phase, new_trailing, new_theta_to  # memory is updated in place
        return ControlOutput(exc, memory=memory)
