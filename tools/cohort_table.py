#!/usr/bin/env python3
"""Leak-incidence tables of a paired two-arm cohort sweep (issue 15; scenes/README.md).

Reads the sweep.csv that `cementflow sweep` writes for a sweep file with a `cohort` and two
`arms`, and prints Markdown tables: per arm and leak route the incidence (leaked volume above the
threshold) with the Wilson 95 % interval, and the paired relative risk arm 1 / arm 2 with the Wald
interval on log RR and the matched-pairs variance (b + c) / ((a + b)(a + c)) (Fagerland, Lydersen
& Laake 2014, Stat Med 33:2850; the same formulas as the sweep's sweep.json); then the same by
fracture class and by injected-volume band. Only patients evaluated in both arms are paired.

The table of all patients takes its pairs and paired relative risks from the sweep.json beside
the CSV when that file has them (relative_risks[].by_route, written by `cementflow sweep` since
session 6) for the same threshold and one entry for the two arms; otherwise, and for the tables
by fracture class and volume band (which need the per-case rows), they are computed here.

    tools/cohort_table.py out/cohort_viscosity/sweep.csv [--threshold 0.01] [--arms lv hv]
"""
import argparse
import csv
import json
import math
import pathlib
import sys
from collections import defaultdict

ROUTES = ["basivertebral_vein", "segmental_vein", "cortical_breach", "endplate_disc",
          "spinal_canal", "soft_tissue"]
EVALUATED = {"completed", "stopped_at_leak", "stopped_at_pressure_limit"}
Z = 1.959963984540054


def wilson(k, n):
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    d = 1 + Z * Z / n
    c = (p + Z * Z / (2 * n)) / d
    h = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def paired_rr(pairs):
    """pairs: list of (leak in arm 1, leak in arm 2). RR = (a+b)/(a+c)."""
    a = sum(1 for x, y in pairs if x and y)
    b = sum(1 for x, y in pairs if x and not y)
    c = sum(1 for x, y in pairs if y and not x)
    if a + b == 0 or a + c == 0:
        return None, (a, b, c)
    rr = (a + b) / (a + c)
    var = (b + c) / ((a + b) * (a + c))
    h = Z * math.sqrt(var)
    return (rr, rr * math.exp(-h), rr * math.exp(h)), (a, b, c)


def sweep_json_rrs(csv_path, arms, threshold):
    """The pairs and paired RR arm 1 / arm 2 per route ("any" and each route) from the sweep.json
    beside csv_path, as {route: (rr or None, (a, b, c, d))} with the shape of paired_rr; None when
    there is no such file, it used another leak threshold, or it has no per-route entry (or more
    than one, e.g. several grid points) for the two arms."""
    path = pathlib.Path(csv_path).with_name("sweep.json")
    if not path.exists():
        return None
    j = json.loads(path.read_text())
    if not math.isclose(j.get("leak_threshold_ml", float("nan")), threshold, rel_tol=1e-12):
        return None
    es = [e for e in j.get("relative_risks", [])
          if {e.get("arm_1"), e.get("arm_2")} == set(arms) and "by_route" in e]
    if len(es) != 1:
        return None
    e = es[0]
    # The file has arm 2 / arm 1: swap the discordant pairs, invert the interval and take the
    # point estimate (a + c) / (a + b) from the counts (as the engine would in that order; 1 / rr
    # can differ in the last bit and round the other way at a printed .xx5).
    flip = e["arm_1"] != arms[0]
    out = {}
    for route, x in [("any", e)] + list(e["by_route"].items()):
        p, r = x["pairs"], x["paired"]
        a, b, c, d = p["both"], p["only_1"], p["only_2"], p["neither"]
        rr = (r["rr"], r["ci95"][0], r["ci95"][1]) if r["defined"] else None
        if flip:
            b, c = c, b
            rr = rr and ((a + b) / (a + c), 1 / rr[2], 1 / rr[1])
        out[route] = (rr, (a, b, c, d))
    return out


def fmt_inc(k, n):
    if n == 0:
        return "–"
    lo, hi = wilson(k, n)
    return f"{k}/{n}, {k / n:.2f} ({lo:.2f}–{hi:.2f})"


def fmt_rr(r):
    rr, (a, b, c) = r
    if rr is None:
        return f"undefined (a={a}, b={b}, c={c})"
    return f"{rr[0]:.2f} ({rr[1]:.2f}–{rr[2]:.2f}); pairs both {a}, only 1 {b}, only 2 {c}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv")
    ap.add_argument("--threshold", type=float, default=0.01, help="leak threshold, mL")
    ap.add_argument("--arms", nargs=2, default=None, help="arm 1 and arm 2 (default: as in the file)")
    ap.add_argument("--bands", type=float, nargs="+", default=[2.0, 10 / 3, 14 / 3, 6.0],
                    help="edges of the injected-volume bands, mL")
    a = ap.parse_args()
    rows = list(csv.DictReader(open(a.csv, newline="")))
    if not rows:
        sys.exit(f"{a.csv}: no cases")
    arms = a.arms or sorted({r["arm"] for r in rows}, key=[r["arm"] for r in rows].index)
    if len(arms) != 2:
        sys.exit(f"{a.csv}: arms {arms}: expected two (--arms A B)")
    by = defaultdict(dict)  # patient -> arm -> row
    for r in rows:
        by[r["patient"]][r["arm"]] = r
    invalid = {arm: [p for p, d in by.items() if arm in d and d[arm]["status"] not in EVALUATED]
               for arm in arms}
    paired = {p: d for p, d in by.items()
              if all(arm in d and d[arm]["status"] in EVALUATED for arm in arms)}

    def leaks(r, route):
        key = "leak_volume_ml" if route == "any" else f"leak_{route}_ml"
        v = r.get(key, "")
        return v not in ("", None) and float(v) > a.threshold

    def table(title, patients, from_json=None):
        n = len(patients)
        if from_json and sum(from_json["any"][1]) != n:
            print(f"sweep.json pairs {sum(from_json['any'][1])} patients, {a.csv} {n}: "
                  "computing from the CSV", file=sys.stderr)
            from_json = None
        src = "from sweep.json" if from_json else "from sweep.csv"
        print(f"\n{title} ({n} paired patients; leak > {a.threshold} mL; paired RR {src})\n")
        print(f"| route | {arms[0]} | {arms[1]} | paired RR {arms[0]} / {arms[1]} |")
        print("|---|---|---|---|")
        for route in ["any"] + ROUTES:
            if from_json and route in from_json:
                rr, (x, y, z, _) = from_json[route]
                r, k = (rr, (x, y, z)), [x + y, x + z]
            else:
                pr = [(leaks(patients[p][arms[0]], route), leaks(patients[p][arms[1]], route))
                      for p in patients]
                r = paired_rr(pr)
                k = [sum(x for x, _ in pr), sum(y for _, y in pr)]
            if route != "any" and k == [0, 0]:
                continue
            print(f"| {route} | {fmt_inc(k[0], n)} | {fmt_inc(k[1], n)} | {fmt_rr(r)} |")

    print(f"{a.csv}: {len(by)} patients; arms {arms[0]}, {arms[1]}; not evaluated: "
          + ", ".join(f"{arm} {len(invalid[arm])}" for arm in arms))
    table("All patients", paired, sweep_json_rrs(a.csv, arms, a.threshold))
    fr = defaultdict(dict)
    for p, d in paired.items():
        if "bone.generate.fracture" in d[arms[0]]:  # a cohort with fracture prevalences
            fr[d[arms[0]]["bone.generate.fracture"].strip('"')][p] = d
    for f in sorted(fr):
        table(f"Fracture {f}", fr[f])
    edges = a.bands
    varies = len({d[arms[0]].get("injection.volume_ml") for d in paired.values()}) > 1
    for lo, hi in zip(edges, edges[1:]) if varies else []:
        sel = {p: d for p, d in paired.items()
               if lo <= float(d[arms[0]]["injection.volume_ml"]) < hi
               or (hi == edges[-1] and float(d[arms[0]]["injection.volume_ml"]) == hi)}
        table(f"Injected {lo:.2f}–{hi:.2f} mL", sel)
    # Volumes, onset, pressure: medians per arm.
    print(f"\n| median (5th–95th pct) | {arms[0]} | {arms[1]} |\n|---|---|---|")
    for key, unit in [("leak_volume_ml", "mL"), ("first_leak_injected_ml", "mL injected"),
                      ("peak_injection_pressure_mpa", "MPa"), ("peak_tip_pressure_kpa", "kPa")]:
        cells = []
        for arm in arms:
            v = sorted(float(d[arm][key]) for d in paired.values() if d[arm].get(key, "") != "")
            if not v:
                cells.append("–")
                continue
            q = lambda f: v[min(len(v) - 1, max(0, round(f * (len(v) - 1))))]
            cells.append(f"{q(0.5):.3g} ({q(0.05):.3g}–{q(0.95):.3g}) {unit}")
        print(f"| {key} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
