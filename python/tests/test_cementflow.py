"""Tests of the Python module (SPEC.md §8). Run by ctest with PYTHONPATH=<build>/python."""

import json
import os
import pathlib
import re
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

import cementflow

# One engine thread: the GIL test spins a Python thread beside the run, and an OpenMP team
# sharing busy cores with it stalls at its barriers.
cementflow.init(threads=1)

SOURCE_DIR = pathlib.Path(os.environ.get("CEMENTFLOW_SOURCE_DIR",
                                         pathlib.Path(__file__).resolve().parents[2]))
CLI = os.environ.get("CEMENTFLOW_CLI", str(SOURCE_DIR / "build" / "cementflow"))


def tiny_scene(volume_ml=0.3):
    """A generated 20 x 16 x 16 mm box at 2 mm voxels, needle tip at the origin."""
    return {
        "schema": 1, "name": "tiny_box",
        "bone": {"generate": {"kind": "box", "size_mm": [20, 16, 16], "voxel_mm": 2.0,
                              "porosity": 0.9, "shell_mm": 2.0,
                              "sink_faces": ["+z", "-z"]}},
        "cement": {"preset": "generic_vertebroplasty"},
        "injection": {"mode": "vertebroplasty",
                      "needle": {"tip_mm": [0, 0, 0], "direction": [0, 1, 0], "gauge": 11,
                                 "length_mm": 120},
                      "flow_rate_ml_per_min": 3.0, "volume_ml": volume_ml},
        "simulation": {"max_time_s": 600, "output_interval_s": 2},
    }


def long_scene():
    """A run of several seconds: 1 mm voxels, 6 mL."""
    s = tiny_scene(6.0)
    s["name"] = "long_box"
    s["bone"]["generate"].update({"size_mm": [40, 30, 25], "voxel_mm": 1.0, "shell_mm": 1.0,
                                  "sink_faces": ["+z", "-z"]})
    return s


def without_wall_time(text):
    return re.sub(r'\n *"wall_time_s": [^\n]*', "", text)


def test_run_returns_report_and_dense_zyx_grids():
    r = cementflow.run(tiny_scene())
    rep = r["report"]
    assert rep["status"] == "completed"
    assert r["layout"] == "zyx"
    g = r["grids"]
    # 20 x 16 x 16 mm at 2 mm: 10 voxels along x, 8 along y and z, plus a layer of soft tissue
    # on the two sink faces (+z, -z) -> shape [z, y, x] = (10, 8, 10).
    assert g["material"].shape == (10, 8, 10)
    assert g["cement_fraction"].shape == (10, 8, 10)
    assert np.all(g["material"][0] == 0) and np.all(g["material"][-1] == 0)
    assert g["material"].dtype == np.int32 and g["cement_fraction"].dtype == np.float32
    assert r["voxel_mm"] == 2.0
    # Voxel [k, j, i] is centred at origin + h * (i, j, k): the box is centred on 0.
    ox, oy, oz = r["origin_mm"]
    assert (ox, oy, oz) == pytest.approx((-9.0, -7.0, -9.0))
    # The fullest voxel is the one holding the needle tip (0, 0, 0) or its neighbour in +y
    # (the injection direction).
    k, j, i = np.unravel_index(np.nanargmax(g["cement_fraction"]), g["cement_fraction"].shape)
    centre = np.array([ox + 2 * i, oy + 2 * j, oz + 2 * k])
    assert np.linalg.norm(centre - np.array([0.0, 0.0, 0.0])) <= 2 * np.sqrt(3) + 1e-9
    # Cement volume in bone from the arrays = the report's (pore volume times fraction).
    mat, phi, s = g["material"], g["porosity"], g["cement_fraction"]
    bone = (mat == 1) | (mat == 2) | (mat == 3) | (mat == 7)
    vol_ml = float(np.sum(s[bone].astype(np.float64) * phi[bone])) * 2.0 ** 3 / 1000.0
    assert vol_ml == pytest.approx(rep["fill"]["cement_volume_in_bone_ml"], rel=1e-4)


def test_report_and_outputs_match_the_cli(tmp_path):
    scene = tiny_scene()
    r = cementflow.run(scene, out=tmp_path / "py")
    assert r["out"] == str(tmp_path / "py")
    py_report = (tmp_path / "py" / "report.json").read_text()
    assert json.loads(py_report) == r["report"]
    assert (tmp_path / "py" / "fill.vdb").stat().st_size > 1000
    scene_file = tmp_path / "tiny_box.json"
    scene_file.write_text(json.dumps(scene, indent=2))
    subprocess.run([CLI, "run", str(scene_file), "--quiet", "--out", str(tmp_path / "cli")],
                   check=True, env=dict(os.environ, OMP_NUM_THREADS=str(r["report"]["engine"]["threads"])))
    cli_report = (tmp_path / "cli" / "report.json").read_text()
    assert without_wall_time(py_report) == without_wall_time(cli_report)


def test_checkpoint_stop_and_resume_equals_an_uninterrupted_run(tmp_path):
    whole = cementflow.run(tiny_scene())
    part = tmp_path / "part"
    first = cementflow.run(tiny_scene(), out=part, stop_after_steps=2)
    assert first["report"]["status"] == "failed"
    assert first["report"]["checkpoint"]["written"] == 1
    assert (part / "checkpoint.cfck").exists()
    # Another scene is refused with the CLI's message.
    with pytest.raises(cementflow.InputError, match="scene_hash"):
        cementflow.run(tiny_scene(0.4), out=tmp_path / "other", resume=part)
    r = cementflow.run(tiny_scene(), out=part, resume=part)
    assert r["report"]["checkpoint"]["resumed"]["at_step"] == 2
    for key in ("status", "timeline", "leaks", "injected_volume_ml", "peak_injection_pressure_mpa",
                "peak_tip_pressure_kpa", "fill"):
        assert r["report"][key] == whole["report"][key], key
    assert r["report"]["solver"]["steps"] == whole["report"]["solver"]["steps"]
    np.testing.assert_array_equal(r["grids"]["cement_fraction"], whole["grids"]["cement_fraction"])
    assert not (part / "checkpoint.cfck").exists()


def test_scene_from_a_path(tmp_path):
    f = tmp_path / "s.json"
    f.write_text(json.dumps(tiny_scene(0.2)))
    for arg in (f, str(f)):
        r = cementflow.run(arg)
        assert r["report"]["status"] == "completed"
        assert r["report"]["injected_volume_ml"] == pytest.approx(0.2, rel=1e-3)


def test_invalid_input_raises_input_error_with_the_clis_message(tmp_path):
    bad = tiny_scene()
    bad["injection"]["volume_ml"] = -2
    with pytest.raises(cementflow.InputError) as e:
        cementflow.run(bad)
    assert isinstance(e.value, ValueError)
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(bad))
    p = subprocess.run([CLI, "run", str(f), "--quiet", "--out", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert p.returncode == 2
    cli_msg = p.stderr.strip().removeprefix("cementflow: ").replace(str(f), "<dict>", 1)
    assert str(e.value) == cli_msg
    # From a path the message names the file, as the CLI's does.
    with pytest.raises(cementflow.InputError) as e2:
        cementflow.run(f)
    assert str(e2.value) == p.stderr.strip().removeprefix("cementflow: ")
    with pytest.raises(cementflow.InputError, match="no_such_scene.json"):
        cementflow.run(tmp_path / "no_such_scene.json")
    with pytest.raises(TypeError):
        cementflow.run(42)


def test_sweep_matches_the_cli_and_resumes(tmp_path):
    scene_file = tmp_path / "tiny_box.json"
    scene_file.write_text(json.dumps(tiny_scene(0.2)))
    sweep = {"schema": 1, "name": "tiny_sweep", "scene": str(scene_file),
             "axes": {"injection.flow_rate_ml_per_min": [2.0, 4.0]}, "seed": 7}
    r = cementflow.sweep(sweep, out=tmp_path / "py")
    assert r["cases"] == 2 and r["incomplete"] == 0
    assert r["out"] == str(tmp_path / "py")
    summary = json.loads((tmp_path / "py" / "sweep.json").read_text())
    assert r["summary"] == summary
    sweep_file = tmp_path / "tiny_sweep.json"
    sweep_file.write_text(json.dumps(sweep))
    subprocess.run([CLI, "sweep", str(sweep_file), "--quiet", "--threads", "1",
                    "--out", str(tmp_path / "cli")], check=True)
    csv_columns = lambda path: [row.split(",")[:-1] for row in path.read_text().splitlines()]
    # Every column but the last (wall_time_s) equals the CLI's.
    assert csv_columns(tmp_path / "py" / "sweep.csv") == csv_columns(tmp_path / "cli" / "sweep.csv")
    # A second call finds both cases finished and runs none of them again.
    mtimes = sorted(p.stat().st_mtime_ns for p in (tmp_path / "py" / "cases").glob("*/report.json"))
    cementflow.sweep(sweep, out=tmp_path / "py")
    assert sorted(p.stat().st_mtime_ns
                  for p in (tmp_path / "py" / "cases").glob("*/report.json")) == mtimes
    bad = dict(sweep, axes={"injection.flow_rate_ml_per_min": []})
    with pytest.raises(cementflow.InputError, match="injection.flow_rate_ml_per_min"):
        cementflow.sweep(bad, out=tmp_path / "bad")


def test_progress_callback_and_an_exception_in_it_cancels(tmp_path):
    seen = []
    r = cementflow.run(tiny_scene(), progress=seen.append)
    assert len(seen) == r["report"]["solver"]["steps"] > 3  # once after every step
    inj = [p["injected_ml"] for p in seen]
    assert all(b >= a for a, b in zip(inj, inj[1:]))
    assert inj[-1] == pytest.approx(0.3, rel=1e-3)

    class Stop(Exception):
        pass

    def stop_at_a_tenth(p):
        if p["injected_ml"] > 0.1 * p["target_ml"]:
            raise Stop("enough")

    with pytest.raises(Stop):
        cementflow.run(long_scene(), out=tmp_path / "stopped", progress=stop_at_a_tenth)
    rep = json.loads((tmp_path / "stopped" / "report.json").read_text())
    assert rep["status"] == "failed"
    assert rep["injected_volume_ml"] < 1.0  # stopped near 0.6 of 6 mL


def test_ctrl_c_cancels_the_run_and_keeps_its_outputs(tmp_path):
    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    t0 = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            cementflow.run(long_scene(), out=tmp_path / "interrupted")
    finally:
        timer.cancel()
    assert time.monotonic() - t0 < 60
    rep = json.loads((tmp_path / "interrupted" / "report.json").read_text())
    assert rep["status"] == "failed" and "cancelled" in rep["message"]
    assert 0 < rep["injected_volume_ml"] < 6.0
    assert (tmp_path / "interrupted" / "fill.vdb").exists()


def test_the_gil_is_released_while_running():
    done = threading.Event()
    result = {}

    # Long enough that a held GIL would show: 1 mm voxels (the 2 mm box now runs in ~0.03 s).
    scene = tiny_scene(1.5)
    scene["bone"]["generate"]["voxel_mm"] = 1.0

    def work():
        result["r"] = cementflow.run(scene)
        done.set()

    t = threading.Thread(target=work)
    ticks = 0
    t0 = time.monotonic()
    t.start()
    while not done.is_set():
        ticks += 1
    elapsed = time.monotonic() - t0
    t.join()
    assert result["r"]["report"]["status"] == "completed"
    # Held GIL: this loop would stall for the whole run. Released: it spins freely (> 10^5/s).
    assert elapsed > 0.05
    assert ticks / elapsed > 1e5, (ticks, elapsed)


def test_generate_vertebra(tmp_path):
    v = cementflow.generate_vertebra(seed=1, voxel_mm=1.0, out=tmp_path / "v.vdb")
    mat, phi = v["grids"]["material"], v["grids"]["porosity"]
    assert mat.shape == phi.shape and mat.ndim == 3
    assert v["info"]["active_voxels"] == int(np.sum(mat >= 0))
    assert 45 <= v["info"]["width_mm"] <= 50  # PHYSICS.md §L3b lumbar widths
    trab = mat == 1
    assert 0.07 < 1 - float(np.mean(phi[trab])) < 0.11  # osteoporotic BV/TV 0.09
    assert (tmp_path / "v.vdb").stat().st_size > 1000
    with pytest.raises(cementflow.InputError, match="fracture"):
        cementflow.generate_vertebra(fracture="crushed")


def test_readme_example(tmp_path, monkeypatch):
    """The notebook-style example of README.md's Python section, as written there."""
    text = (SOURCE_DIR / "README.md").read_text()
    m = re.search(r"### From Python\n.*?```python\n(.*?)```", text, re.S)
    assert m, "README.md has no '### From Python' section with a python block"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenes").symlink_to(SOURCE_DIR / "scenes")
    ns = {}
    exec(compile(m.group(1), "README.md", "exec"), ns)
    assert ns["r"]["report"]["status"] == "completed"
    assert (tmp_path / "out" / "py_box" / "report.json").exists()


def test_run_on_the_imported_real_ct():
    """L1 of the TotalSegmentator CT (../shared/data) with the needle of scenes/vp_from_ct.json."""
    ts = SOURCE_DIR.parent / "shared" / "data" / "clinical_ct_totalsegmentator"
    assert (ts / "example_ct.nii.gz").exists(), f"real data missing: {ts}"
    scene = tiny_scene(0.5)
    scene["bone"] = {"import": {"image": str(ts / "example_ct.nii.gz"),
                                "label": str(ts / "example_seg_fast_force_split.nii.gz"),
                                "label_value": 31, "voxel_mm": 2.0, "cortical_shell": False}}
    scene["injection"]["needle"].update({"tip_mm": [-6, 128, 386], "direction": [0.467, 0.884, 0]})
    r = cementflow.run(scene)
    assert r["report"]["status"] == "completed"
    assert r["report"]["injected_volume_ml"] == pytest.approx(0.5, rel=1e-3)
    mat = r["grids"]["material"]
    # The model sits around L1: the needle tip lies inside the dense box.
    ijk = (np.array([-6, 128, 386]) - np.array(r["origin_mm"])) / r["voxel_mm"]
    i, j, k = np.rint(ijk).astype(int)
    assert 0 <= k < mat.shape[0] and 0 <= j < mat.shape[1] and 0 <= i < mat.shape[2]
    assert mat[k, j, i] == 1  # trabecular bone at the tip
    assert r["grids"]["cement_fraction"][k, j, i] > 0.5
