"""tools/cohort_table.py (issue 15): the incidence and paired relative-risk tables of a two-arm
cohort sweep, checked against published worked examples and hand counts."""
import csv
import importlib.util
import json
import math
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "cohort_table.py"
spec = importlib.util.spec_from_file_location("cohort_table", SCRIPT)
ct = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ct)


def test_wilson_interval_matches_newcombe_1998():
    # Newcombe, Stat Med 1998;17:857, Table I: 81/263 -> 0.2553 to 0.3662 (Wilson score).
    lo, hi = ct.wilson(81, 263)
    assert abs(lo - 0.2553) < 5e-5 and abs(hi - 0.3662) < 5e-5
    lo, hi = ct.wilson(0, 10)  # Newcombe's 0/10: 0 to 0.2775
    assert lo == 0.0 and abs(hi - 0.2775) < 5e-5


def test_paired_rr_by_hand():
    # a = 5 both, b = 3 only arm 1, c = 1 only arm 2, 1 neither: RR = 8/6, var = 4/48.
    pairs = [(1, 1)] * 5 + [(1, 0)] * 3 + [(0, 1)] + [(0, 0)]
    (rr, lo, hi), (a, b, c) = ct.paired_rr(pairs)
    assert (a, b, c) == (5, 3, 1)
    assert abs(rr - 8 / 6) < 1e-12
    h = 1.959963984540054 * math.sqrt(4 / 48)
    assert abs(lo - rr * math.exp(-h)) < 1e-12 and abs(hi - rr * math.exp(h)) < 1e-12
    # No case leaks in arm 2: undefined, not a division by zero.
    assert ct.paired_rr([(1, 0), (0, 0)])[0] is None


def write_sweep_csv(tmp_path):
    # Four patients x two arms; the hv arm leaks less through the endplate. One case failed.
    rows = []
    vols = {"lv": [0.02, 0.02, 0.005, 0.03], "hv": [0.02, 0.0, 0.0, 0.03]}
    disc = {"lv": [0.02, 0.02, 0.0, 0.0], "hv": [0.02, 0.0, 0.0, 0.0]}
    for p in range(4):
        for arm in ("lv", "hv"):
            rows.append({"case": f"p{p}_{arm}", "arm": arm, "patient": str(p), "sample": "0",
                         "bone.generate.fracture": '"cleft"' if p < 2 else '"none"',
                         "injection.volume_ml": str(2.5 + p), "status": "completed",
                         "leak_volume_ml": str(vols[arm][p]),
                         "leak_endplate_disc_ml": str(disc[arm][p]),
                         "first_leak_injected_ml": "1", "peak_injection_pressure_mpa": "0.5",
                         "peak_tip_pressure_kpa": "10"})
    rows.append(dict(rows[-1], case="p4_hv", patient="4", status="failed"))
    path = tmp_path / "sweep.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_tables_from_a_sweep_csv(tmp_path):
    path = write_sweep_csv(tmp_path)
    out = subprocess.run([sys.executable, str(SCRIPT), str(path), "--arms", "hv", "lv"],
                         capture_output=True, text=True, check=True).stdout
    assert "not evaluated: hv 1, lv 0" in out
    assert "All patients (4 paired patients" in out
    # any: hv leaks in patients 0 and 3, lv in 0, 1 and 3 (patient 2's 0.005 mL is below 0.01).
    assert "| any | 2/4, 0.50" in out and "| 3/4, 0.75" in out
    assert "0.67 (" in out  # paired RR hv / lv = 2/3
    assert "Fracture cleft (2 paired patients" in out
    assert "| endplate_disc | 1/4, 0.25" in out


def rr_entry(a, b, c, d, rr=None, se=None):
    """A relative_risks entry of sweep.json (engine/run/sweep_output.cpp) for one route."""
    paired = {"defined": rr is not None, "n": a + b + c + d, "method": "paired"}
    if rr is not None:
        h = 1.959963984540054 * se
        paired.update(rr=rr, ci95=[rr * math.exp(-h), rr * math.exp(h)])
    return {"pairs": {"both": a, "only_1": b, "only_2": c, "neither": d}, "paired": paired,
            "independent": {"defined": False, "n": 0, "method": "independent"}}


def write_sweep_json(tmp_path, threshold=0.01):
    # The sweep.json `cementflow sweep` writes beside the CSV above, arms in file order (lv, hv):
    # any: both p0, p3; only lv p1; neither p2 -> RR lv / hv 3/2, var 1 / (3 * 2).
    # disc: both p0; only lv p1; neither p2, p3 -> RR 2/1, var 1 / (2 * 1).
    e = {"point": 0, "arm_1": "lv", "arm_2": "hv", **rr_entry(2, 1, 0, 1, 1.5, math.sqrt(1 / 6))}
    e["by_route"] = {r: rr_entry(0, 0, 0, 4) for r in ct.ROUTES}
    e["by_route"]["endplate_disc"] = rr_entry(1, 1, 0, 2, 2.0, math.sqrt(1 / 2))
    (tmp_path / "sweep.json").write_text(json.dumps(
        {"schema": 1, "leak_threshold_ml": threshold, "relative_risks": [e]}))


def test_paired_rr_read_from_sweep_json(tmp_path):
    path = write_sweep_csv(tmp_path)
    assert ct.sweep_json_rrs(path, ["hv", "lv"], 0.01) is None  # no sweep.json yet

    def all_patients():
        out = subprocess.run([sys.executable, str(SCRIPT), str(path), "--arms", "hv", "lv"],
                             capture_output=True, text=True, check=True).stdout
        head, strata = out.split("Fracture cleft", 1)
        assert "paired RR from sweep.csv" in strata  # strata always need the CSV rows
        return head

    from_csv = all_patients()
    assert "paired RR from sweep.csv" in from_csv
    write_sweep_json(tmp_path)
    # In the file's order: its numbers as they are.
    got = ct.sweep_json_rrs(path, ["lv", "hv"], 0.01)
    assert got["any"][1] == (2, 1, 0, 1) and got["any"][0][0] == 1.5
    assert got["segmental_vein"] == (None, (0, 0, 0, 4))
    # Arms the other way round: RR and interval inverted, the discordant pairs swapped.
    got = ct.sweep_json_rrs(path, ["hv", "lv"], 0.01)
    rr, lo, hi = got["endplate_disc"][0]
    h = 1.959963984540054 * math.sqrt(1 / 2)
    assert got["endplate_disc"][1] == (1, 0, 1, 2)
    assert abs(rr - 0.5) < 1e-12 and abs(lo - 0.5 * math.exp(-h)) < 1e-12
    assert abs(hi - 0.5 * math.exp(h)) < 1e-12
    assert ct.sweep_json_rrs(path, ["hv", "lv"], 0.02) is None  # another threshold: not used
    # The table of all patients from sweep.json is the one computed from the CSV.
    from_json = all_patients()
    assert "paired RR from sweep.json" in from_json
    assert from_json.replace("sweep.json", "sweep.csv") == from_csv
    assert "| endplate_disc | 1/4, 0.25" in from_json and "| 0.50 (" in from_json
    write_sweep_json(tmp_path, threshold=0.02)
    assert all_patients() == from_csv
