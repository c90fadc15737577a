"""Export one walker's run to OpenSim and spreadsheet files.

* ``write_mot``: coordinates over time as an OpenSim motion file (Storage format, ``.mot``), one
  column per coordinate named as in OpenSim's ``2D_gait.osim`` (``gaitsim.names.COORDINATES``,
  same signs), rotations in degrees (header ``inDegrees=yes``), translations (``pelvis_tx``,
  ``pelvis_ty``) in metres. OpenSim's Inverse Kinematics tool writes and its tools read this layout.
* ``write_sto``: muscle activations and tendon forces (N) as an OpenSim 4 ``.sto`` table
  (``inDegrees=no``), labelled the way OpenSim 4 names them: a state variable by its path,
  ``/forceset/<muscle>/activation`` (as in Moco solutions and ``StatesTrajectory`` tables), and a
  component output by component path ``|`` output name, ``/forceset/<muscle>|tendon_force`` (as a
  ``TableReporter`` labels outputs). Muscles keep gaitsim's names (``gaitsim.names.MUSCLES``):
  ``hamstrings``, ``glut_max``, ``rect_fem``, ``vasti``, ``gastroc``, ``soleus`` and ``tib_ant``
  match ``2D_gait.osim``; ``psoas`` + ``iliacus`` are its ``iliopsoas``; the lumped
  ``erector_spinae`` and ``abdominals`` are not in it.
* ``write_csv``: any saved ``Results`` fields, one column per element (``field/element``, e.g.
  ``grf/foot_r/y``), the unit in brackets in the header.

Both OpenSim files are: a header of ``key=value`` lines (after the table's name) ending with a line
``endheader``, then a tab-separated table whose first row holds the column labels and whose first
column is ``time`` (s). ``read_table`` reads them back. Rows stop at the walker's fall or divergence
(``Results.status_time``), when it has one: after it the walker is frozen, not walking.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .names import COORDINATE_UNITS, COORDINATES, MUSCLES
from .results import FIELDS, Results


def _results(run) -> Results:
    """The ``Results`` of a ``Results`` or a ``ScenarioResult``."""
    if isinstance(run, Results):
        return run
    res = getattr(run, "results", None)
    if isinstance(res, Results):
        return res
    raise TypeError(f"export: expected gaitsim Results or a ScenarioResult, got {type(run).__name__}")


def _walker_rows(res: Results, walker: int) -> tuple[int, np.ndarray]:
    """(walker index, mask of the saved samples up to its fall or divergence)."""
    if isinstance(walker, bool) or not isinstance(walker, (int, np.integer)) or not 0 <= walker < res.batch_size:
        raise ValueError(f"walker must be an integer in [0, {res.batch_size - 1}], got {walker!r}")
    t = np.asarray(res.time, float)
    until = float(res.status_time[walker]) if int(res.status[walker]) != 0 else np.inf
    return int(walker), t <= until


def _field(res: Results, name: str) -> np.ndarray:
    if name not in res.data:
        raise ValueError(f"export: the field {name!r} was not saved in this run; saved: {', '.join(res.data)}")
    return res.data[name]


def _write_storage(path, title: str, labels: list[str], time: np.ndarray, columns: np.ndarray,
                   in_degrees: bool) -> Path:
    """OpenSim Storage (version 1): title, key=value header, endheader, tab-separated table.
    columns: (T, N) without time."""
    p = Path(path)
    table = np.column_stack([time, columns])
    header = [title, "version=1", f"nRows={table.shape[0]}", f"nColumns={table.shape[1]}",
              f"inDegrees={'yes' if in_degrees else 'no'}", "endheader", "\t".join(["time"] + labels)]
    with p.open("w") as f:
        f.write("\n".join(header) + "\n")
        np.savetxt(f, table, delimiter="\t", fmt="%.10g")
    return p


def write_mot(path, run, walker: int = 0) -> Path:
    """Coordinates of one walker of ``run`` (``Results`` or ``ScenarioResult``) as an OpenSim
    ``.mot``: time (s), then each of ``COORDINATES``, rotations in degrees, translations in m."""
    res = _results(run)
    i, rows = _walker_rows(res, walker)
    q = _field(res, "q")[i, rows]  # (T, n_coordinates): m | rad
    rotation = np.array([COORDINATE_UNITS[c] == "rad" for c in COORDINATES])
    values = np.where(rotation, np.degrees(q), q)
    return _write_storage(path, "Coordinates", list(COORDINATES), res.time[rows], values, in_degrees=True)


def write_sto(path, run, walker: int = 0) -> Path:
    """Activations (-) and tendon forces (N) of one walker's muscles as an OpenSim 4 ``.sto``
    labelled ``/forceset/<muscle>/activation`` and ``/forceset/<muscle>|tendon_force``."""
    res = _results(run)
    i, rows = _walker_rows(res, walker)
    act, force = _field(res, "activation")[i, rows], _field(res, "muscle_force")[i, rows]  # (T, n_muscles)
    labels = [f"/forceset/{m}/activation" for m in MUSCLES] + [f"/forceset/{m}|tendon_force" for m in MUSCLES]
    return _write_storage(path, "MuscleStates", labels, res.time[rows], np.hstack([act, force]), in_degrees=False)


def write_csv(path, run, fields=("q", "activation", "muscle_force"), walker: int = 0) -> Path:
    """Saved ``fields`` of one walker as CSV: a header ``time [s],field/element [unit],...`` and one
    row per saved sample (SI units, radians)."""
    res = _results(run)
    i, rows = _walker_rows(res, walker)
    labels, columns = ["time [s]"], [res.time[rows][:, None]]
    for name in fields:
        if name not in FIELDS:
            raise ValueError(f"export: unknown field {name!r}; allowed: {', '.join(FIELDS)}")
        values = _field(res, name)[i, rows]
        axes, unit = FIELDS[name][0], FIELDS[name][1]
        elements = _element_names(axes)
        units = [_split_unit(unit, e) for e in elements]
        labels += [f"{name}/{e} [{u}]" for e, u in zip(elements, units)]
        columns.append(values.reshape(values.shape[0], -1))
    p = Path(path)
    with p.open("w") as f:
        f.write(",".join(labels) + "\n")
        np.savetxt(f, np.hstack(columns), delimiter=",", fmt="%.10g")
    return p


def _element_names(axes) -> list[str]:
    names = [""]
    for axis in axes:
        names = [f"{a}/{b}" if a else str(b) for a in names for b in axis]
    return names


def _split_unit(unit: str, element: str) -> str:
    """The unit of one element of a field whose unit reads "translation | rotation"."""
    if " | " not in unit:
        return unit
    translation, rotation = unit.split(" | ")
    return translation if COORDINATE_UNITS.get(element) == "m" else rotation


def export(run, folder, walker: int = 0, name: str = "gaitsim", csv_fields=("q", "activation", "muscle_force")) -> dict:
    """Write ``<name>.mot``, ``<name>.sto`` and ``<name>.csv`` of one walker into ``folder``;
    returns {"mot", "sto", "csv": path}."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    return {"mot": write_mot(out / f"{name}.mot", run, walker), "sto": write_sto(out / f"{name}.sto", run, walker),
            "csv": write_csv(out / f"{name}.csv", run, csv_fields, walker)}


def read_table(path) -> tuple[dict, list[str], np.ndarray]:
    """(header, labels, data) of an OpenSim Storage file (``.mot``/``.sto``): ``header`` holds the
    title (key ``"name"``) and the ``key=value`` lines up to ``endheader``; ``labels`` the column
    labels (first ``time``); ``data`` the (T, n_columns) table."""
    p = Path(path)
    lines = p.read_text().splitlines()
    try:
        end = next(k for k, line in enumerate(lines) if line.strip() == "endheader")
    except StopIteration:
        raise ValueError(f"read_table: {str(p)!r} has no 'endheader' line (not an OpenSim Storage file)") from None
    header: dict = {}
    for k, line in enumerate(lines[:end]):
        if "=" in line:
            key, value = line.split("=", 1)
            header[key.strip()] = value.strip()
        elif k == 0:
            header["name"] = line.strip()
    labels = lines[end + 1].split("\t")
    body = [line for line in lines[end + 2:] if line.strip()]
    data = np.array([[float(x) for x in line.split("\t")] for line in body]).reshape(-1, len(labels))
    return header, labels, data


__all__ = ["export", "read_table", "write_csv", "write_mot", "write_sto"]
