"""Summaries of randomised-scene records (`spectrum.evaluate.randomized_bench.run_scene`).

Pure functions over the records, so a saved JSON-lines file can be summarised again:
confusion matrix (label kind × reported kind, plus missed), Pd per kind per JNR bucket, class
accuracy among detections (``interference``, unclassified, counts as wrong), latency (from the
onset; for ramps from the 0 dB crossing), Pd at JNR ≥ 0 of the labels not under a stronger
legitimate signal (J/(N+I) ≥ 0, spectrum.evaluate.label_background), frequency IoU, false
events per hour on clean scenes with an exact Poisson upper bound, the overload lane, and a
PNG of Pd against JNR.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from statistics import median

import numpy as np
from scipy.stats import chi2

JAM_KINDS = ("wideband_noise", "tone", "swept", "pulsed", "new_emitter")
REPORTED = JAM_KINDS + ("interference",)
JNR_EDGES = (-6, -3, 0, 3, 6, 10, 20, 30.01)


def bucket(jnr_db: float) -> str:
    """The JNR bucket ``[a, b)`` a label falls in, as text."""
    for a, b in zip(JNR_EDGES, JNR_EDGES[1:]):
        if a <= jnr_db < b:
            return f"{a:g}..{min(b, 30):g}"
    return "other"


def jam_labels(records: list[dict]) -> list[dict]:
    """Every jammer / new-emitter label of the jammed records (not overload labels)."""
    return [l for r in records if not r["clean"] for l in r["labels"] if l["kind"] != "overload"]


def confusion(labels: list[dict]) -> dict[str, Counter]:
    """label kind → Counter of reported kind (``missed`` when not detected)."""
    out: dict[str, Counter] = {k: Counter() for k in JAM_KINDS}
    for l in labels:
        out.setdefault(l["kind"], Counter())[l["detected_kind"] if l["detected"] else "missed"] += 1
    return out


def pd_table(labels: list[dict]) -> dict[str, dict[str, tuple[int, int]]]:
    """kind → bucket → (detected, labels)."""
    table: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for l in labels:
        cell = table[l["kind"]][bucket(l["jnr_db"])]
        cell[0] += bool(l["detected"])
        cell[1] += 1
    return {k: {b: tuple(v) for b, v in row.items()} for k, row in table.items()}


def poisson_upper(count: int, exposure: float, level: float = 0.95) -> float:
    """One-sided upper confidence bound of a Poisson rate (exact, Garwood)."""
    return float(chi2.ppf(level, 2 * count + 2) / 2 / exposure) if exposure > 0 else float("nan")


def summary(records: list[dict]) -> dict:
    """The headline figures of a set of records (see the module docstring)."""
    labels = jam_labels(records)
    detected = [l for l in labels if l["detected"]]
    abrupt = [l["latency_s"] for l in detected if l["onset"] == "abrupt"]
    ramped = [l["latency_s"] for l in detected if l["onset"] == "ramp" and l.get("jnr0_s") is not None]
    clean = [r for r in records if r["clean"]]
    clean_h = sum(r["duration_s"] for r in clean) / 3600
    clean_false = sum(len(r["false_events"]) for r in clean)
    ge0 = {k: _pd([l for l in labels if l["kind"] == k and l["jnr_db"] >= 0]) for k in JAM_KINDS}
    # J/(N+I) (spectrum.evaluate.label_background): records written before it have none
    judged = [l for l in labels if l["jnr_db"] >= 0 and l.get("jinr_db") is not None]
    clear = [l for l in judged if l["jinr_db"] >= 0]
    clear_ge0 = {k: _pd([l for l in clear if l["kind"] == k]) for k in JAM_KINDS}
    wide_m3 = [l for l in labels if l["kind"] == "wideband_noise" and -3 <= l["jnr_db"] < 0
               and l["freq_high_hz"] - l["freq_low_hz"] >= 1e6]
    overload = [l for r in records for l in r["labels"] if l["kind"] == "overload"]
    return {
        "jammed_scenes": len(records) - len(clean), "labels": len(labels),
        "pd": _pd(labels), "pd_jnr_ge_0": ge0,
        "labels_jnr_ge_0_judged": len(judged), "labels_under_background": len(judged) - len(clear),
        "pd_jinr_ge_0": _pd(clear), "pd_jinr_ge_0_kinds": clear_ge0, "pd_barrage_1mhz_m3db": _pd(wide_m3), "barrage_1mhz_m3db_labels": len(wide_m3),
        "class_accuracy": sum(l["detected_kind"] == l["kind"] for l in detected) / len(detected) if detected else None,
        "median_latency_s": median(abrupt) if abrupt else None,
        "median_ramp_latency_s": median(ramped) if ramped else None, "ramp_labels_detected": len(ramped),
        "median_freq_iou": median(l["freq_iou"] for l in detected) if detected else None,
        "false_events_jammed": sum(len(r["false_events"]) for r in records if not r["clean"]),
        "clean_scenes": len(clean), "clean_hours": clean_h, "clean_false_events": clean_false,
        "clean_false_per_h": clean_false / clean_h if clean_h else None,
        "clean_false_per_h_upper95": poisson_upper(clean_false, clean_h) if clean_h else None,
        "clean_false_kinds": dict(Counter(e["kind"] for r in clean for e in r["false_events"])),
        "overload_labels": len(overload), "overload_detected": sum(l["detected"] for l in overload),
        "false_overloads": sum(r["false_overloads"] for r in records),
    }


def _pd(labels: list[dict]) -> float | None:
    return sum(l["detected"] for l in labels) / len(labels) if labels else None


def by_variant(labels: list[dict]) -> dict[str, tuple[int, int, int]]:
    """Variant (signal type, onset, band and period traits) → (labels, detected, right kind)."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for l in labels:
        p = l.get("params", {})
        name = l["what"]
        if p.get("wider_than_band"):
            name += " wider than band"
        if "shape" in p:
            name += f" {p['shape']}"
        if l["what"] == "pulsed":
            name += " frame-aligned" if p.get("frame_aligned") else (" duty<5%" if p.get("duty", 1.0) < 0.05 else "")
        if l["what"] == "tone" and p.get("drift_hz_per_s"):
            name += " drifting"
        if l["onset"] == "ramp":
            name += " (ramp)"
        cell = out[name]
        cell[0] += 1
        cell[1] += bool(l["detected"])
        cell[2] += l["detected_kind"] == l["kind"]
    return {k: tuple(v) for k, v in sorted(out.items())}


def plot_pd(labels: list[dict], path: Path, title: str) -> None:
    """PNG of Pd against JNR (bucket centres), one line per kind."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    table = pd_table(labels)
    fig = Figure(figsize=(7, 4.2))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    centres = [(a + min(b, 30)) / 2 for a, b in zip(JNR_EDGES, JNR_EDGES[1:])]
    names = [bucket(c) for c in centres]
    for kind in JAM_KINDS:
        row = table.get(kind, {})
        xs = [c for c, n in zip(centres, names) if n in row]
        ys = [row[n][0] / row[n][1] for n in names if n in row]
        if xs:
            ax.plot(xs, ys, marker="o", label=kind)
    ax.set_xlabel("JNR, dB (bucket centre)")
    ax.set_ylabel("Pd")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(title)
    fig.savefig(str(path), dpi=100)


def print_report(records: list[dict], title: str, console) -> dict:
    """Print every table to a rich console; return `summary`."""
    from rich.table import Table

    labels = jam_labels(records)
    matrix = Table(title=f"{title}: confusion (rows: label kind; columns: reported kind)")
    matrix.add_column("label")
    for column in REPORTED + ("missed", "labels"):
        matrix.add_column(column, justify="right")
    for kind, counts in confusion(labels).items():
        matrix.add_row(kind, *[str(counts.get(c, 0)) for c in REPORTED + ("missed",)], str(sum(counts.values())))
    console.print(matrix)
    pd = Table(title="Pd per kind per JNR bucket (detected/labels)")
    pd.add_column("kind")
    names = [bucket((a + min(b, 30)) / 2) for a, b in zip(JNR_EDGES, JNR_EDGES[1:])]
    for name in names:
        pd.add_column(f"{name} dB", justify="right")
    for kind, row in sorted(pd_table(labels).items()):
        pd.add_row(kind, *[f"{row[n][0] / row[n][1]:.2f} ({row[n][0]}/{row[n][1]})" if n in row else "" for n in names])
    console.print(pd)
    variants = Table(title="by variant")
    for column in ("variant", "labels", "Pd", "right kind / detected"):
        variants.add_column(column, justify="left" if column == "variant" else "right")
    for name, (n, d, right) in by_variant(labels).items():
        variants.add_row(name, str(n), f"{d / n:.2f}", f"{right / d:.2f}" if d else "")
    console.print(variants)
    s = summary(records)
    fmt = lambda v, spec=".3f": "n/a" if v is None else format(v, spec)  # noqa: E731
    console.print(
        f"{s['jammed_scenes']} jammed scenes, {s['labels']} labels: Pd {fmt(s['pd'])} · class accuracy among "
        f"detections {fmt(s['class_accuracy'])} · median latency {fmt(s['median_latency_s'])} s (abrupt), "
        f"{fmt(s['median_ramp_latency_s'])} s after 0 dB (ramps, {s['ramp_labels_detected']} detected) · "
        f"median freq IoU {fmt(s['median_freq_iou'])} · false events in jammed scenes {s['false_events_jammed']}")
    console.print("Pd at JNR ≥ 0 dB: " + ", ".join(f"{k} {fmt(v)}" for k, v in s["pd_jnr_ge_0"].items())
                  + f" · barrage ≥ 1 MHz at −3…0 dB: {fmt(s['pd_barrage_1mhz_m3db'])} ({s['barrage_1mhz_m3db_labels']} labels)")
    if s["labels_jnr_ge_0_judged"]:
        console.print(f"{s['labels_under_background']} of the {s['labels_jnr_ge_0_judged']} labels at JNR ≥ 0 dB lie under "
                      "a stronger legitimate signal (J/(N+I) < 0 dB in their band); Pd of the others "
                      f"{fmt(s['pd_jinr_ge_0'])}: " + ", ".join(f"{k} {fmt(v)}" for k, v in s["pd_jinr_ge_0_kinds"].items()))
    if s["clean_scenes"]:
        console.print(f"clean: {s['clean_false_events']} false events in {s['clean_hours']:.2f} h of {s['clean_scenes']} "
                      f"scenes → {fmt(s['clean_false_per_h'], '.2f')}/h (95 % upper bound "
                      f"{fmt(s['clean_false_per_h_upper95'], '.2f')}/h); kinds {s['clean_false_kinds']}")
    costed = [r for r in records if "cpu_s" in r]
    if costed:
        cpu = sum(r["cpu_s"] for r in costed)
        samples = sum(r["duration_s"] * r["sample_rate_hz"] for r in costed)
        console.print(f"cost: {cpu:.0f} CPU-s for {len(costed)} scenes ({cpu / len(costed):.1f} CPU-s a scene, "
                      f"{samples / cpu / 1e6:.2f} MS/s rendered and replayed per CPU-second)")
    console.print(f"overload lane: {s['overload_detected']}/{s['overload_labels']} clipping stretches reported as "
                  f"overload; {s['false_overloads']} overload events where the capture did not clip")
    return s
