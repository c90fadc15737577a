"""Export of one run (gaitsim.export): OpenSim .mot/.sto and CSV, read back by the Storage reader
and, when installed, by OpenSim itself."""

from __future__ import annotations

import numpy as np
import pytest

from gaitsim import export
from gaitsim.names import COORDINATES, MUSCLES
from gaitsim.scenario import Scenario


@pytest.fixture(scope="module")
def run():
    return Scenario.preset("healthy").run(duration=0.3)


@pytest.fixture(scope="module")
def files(run, tmp_path_factory):
    return export.export(run, tmp_path_factory.mktemp("export"), name="healthy")


def test_mot_round_trip(run, files):
    header, labels, data = export.read_table(files["mot"])
    assert header["inDegrees"] == "yes" and header["name"] == "Coordinates"
    assert labels == ["time"] + list(COORDINATES)
    assert int(header["nRows"]) == data.shape[0] == run.results.time.size
    assert int(header["nColumns"]) == data.shape[1] == 1 + len(COORDINATES)
    q = run.results["q"][0]
    np.testing.assert_allclose(data[:, 0], run.results.time, rtol=1e-9)
    np.testing.assert_allclose(data[:, 1:3], q[:, :2], rtol=1e-8, atol=1e-12)  # pelvis_tx, ty in m
    np.testing.assert_allclose(np.radians(data[:, 3:]), q[:, 2:], rtol=1e-8, atol=1e-12)  # degrees


def test_sto_round_trip(run, files):
    header, labels, data = export.read_table(files["sto"])
    assert header["inDegrees"] == "no"
    assert labels[1] == "/forceset/psoas_r/activation"
    assert labels[1 + len(MUSCLES)] == "/forceset/psoas_r|tendon_force"
    k = labels.index("/forceset/soleus_l|tendon_force")
    np.testing.assert_allclose(data[:, k], run.results.muscle("muscle_force", "soleus_l")[0], rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(data[:, 1:1 + len(MUSCLES)], run.results["activation"][0], rtol=1e-8, atol=1e-12)


def test_csv(run, files):
    labels = files["csv"].read_text().splitlines()[0].split(",")
    assert labels[0] == "time [s]" and "q/pelvis_tx [m]" in labels and "q/knee_angle_r [rad]" in labels
    data = np.loadtxt(files["csv"], delimiter=",", skiprows=1)
    assert data.shape == (run.results.time.size, 1 + len(COORDINATES) + 2 * len(MUSCLES))
    grf = export.write_csv(files["csv"].with_name("grf.csv"), run.results, fields=("grf",))
    assert "grf/foot_l/y [N]" in grf.read_text().splitlines()[0]
    with pytest.raises(ValueError, match="unknown field 'forces'"):
        export.write_csv(files["csv"].with_name("x.csv"), run, fields=("forces",))


def test_fallen_walker_rows_stop_at_the_fall(tmp_path):
    # weak dorsiflexors at full severity make the acute trunk-initiated walker fall at 1.51 s (gaitsim 0.9)
    res = Scenario.preset("healthy").with_settings({"weak_dorsiflexors": 1.0}).run(duration=1.8)
    assert res.results.status[0] == 1
    _, _, data = export.read_table(export.write_mot(tmp_path / "fell.mot", res))
    assert data[-1, 0] <= res.results.status_time[0] and data.shape[0] < res.results.time.size


def test_opensim_reads_the_files(run, files):
    osim = pytest.importorskip("opensim")
    mot = osim.TimeSeriesTable(str(files["mot"]))
    assert list(mot.getColumnLabels()) == list(COORDINATES)
    assert mot.getNumRows() == run.results.time.size
    assert mot.getTableMetaDataAsString("inDegrees") == "yes"
    col = mot.getDependentColumn("hip_flexion_r").to_numpy()
    np.testing.assert_allclose(np.radians(col), run.results.coordinate("hip_flexion_r")[0], rtol=1e-8, atol=1e-12)
    sto = osim.TimeSeriesTable(str(files["sto"]))
    assert "/forceset/tib_ant_r|tendon_force" in list(sto.getColumnLabels())
    assert sto.getNumColumns() == 2 * len(MUSCLES)
