"""Print the latest benchmark run as a table: per benchmark the median and throughput, per group
the ratio of ours to each peer, and whether the stated targets are met.

Generic over every ``benchmarks/bench_*.py``: it reads only pytest-benchmark's JSON (``make bench``
writes ``.benchmarks/latest.json``) and these optional ``extra_info`` keys:

- ``items`` and ``unit``: work per round (e.g. 1_000_000 "packets", 104_857_600 "bytes");
  throughput is items / median, so a peer run on a sample is compared per item.
- ``role``: "ours" marks the subject of its group (else the group's first benchmark is);
  every other benchmark in the group is a peer.
- ``min_rate`` on ours (items/s) and ``min_ratio`` on a peer (ours must be that many times
  faster): the targets, reported as met or MISSED.
- anything else numeric or short (``peak_rss_mb``, ``note``...) is printed as a note.

Usage: python benchmarks/report.py [path/to/benchmark.json] [--markdown]
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent.parent / ".benchmarks" / "latest.json"
_KNOWN = {"items", "unit", "role", "min_rate", "min_ratio"}


def _rate_text(rate: float | None, unit: str) -> str:
    if rate is None:
        return ""
    if unit == "bytes":
        return f"{rate / (1 << 20):,.1f} MB/s"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if rate >= scale:
            return f"{rate / scale:,.2f}{suffix} {unit}/s"
    return f"{rate:,.1f} {unit}/s"


def _time_text(seconds: float) -> str:
    for scale, suffix in ((1, "s"), (1e-3, "ms"), (1e-6, "us")):
        if seconds >= scale:
            return f"{seconds / scale:,.3f} {suffix}"
    return f"{seconds * 1e9:,.0f} ns"


def _number(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.4g}"


def rows_from(doc: dict) -> list[dict]:
    """One row per benchmark, with throughput and ratio against the group's subject."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for b in doc.get("benchmarks", []):
        info = b.get("extra_info", {}) or {}
        median = b["stats"]["median"]
        items = info.get("items")
        groups[b.get("group") or b["name"]].append({
            "group": b.get("group") or "", "name": b["name"], "median": median, "info": info,
            "unit": info.get("unit", "items"), "rate": items / median if items and median > 0 else None,
        })
    rows = []
    for group, members in groups.items():
        subject = next((m for m in members if m["info"].get("role") == "ours"), members[0])
        for m in members:
            m["subject"] = m is subject
            m["ratio"] = None
            m["target"] = ""
            if m is subject:
                want = m["info"].get("min_rate")
                if want is not None and m["rate"] is not None:
                    m["target"] = f">= {_rate_text(want, m['unit'])}: " + ("met" if m["rate"] >= want else "MISSED")
            else:
                if subject["rate"] is not None and m["rate"] is not None:
                    m["ratio"] = subject["rate"] / m["rate"]
                elif subject["median"] > 0:
                    m["ratio"] = m["median"] / subject["median"]
                want = m["info"].get("min_ratio")
                if want is not None and m["ratio"] is not None:
                    m["target"] = f">= {want:g}x: " + ("met" if m["ratio"] >= want else "MISSED")
            rows.append(m)
    return rows


def render(doc: dict, markdown: bool = False) -> str:
    machine = doc.get("machine_info", {})
    head = (f"Benchmarks of {doc.get('datetime', '?')} on {machine.get('node', '?')} "
            f"({machine.get('cpu', {}).get('count', '?')} cores, {machine.get('cpu', {}).get('brand_raw', '?')}), "
            f"Python {machine.get('python_version', '?')}. Medians; ratio = ours / peer throughput.")
    cols = ["group", "benchmark", "median", "throughput", "ours vs this", "target", "notes"]
    table = []
    for r in rows_from(doc):
        notes = ", ".join(f"{k}={_number(v)}" if isinstance(v, (int, float)) else f"{k}: {v}"
                          for k, v in r["info"].items() if k not in _KNOWN)
        ratio = "(ours)" if r["subject"] else (f"{r['ratio']:,.1f}x" if r["ratio"] is not None else "")
        table.append([r["group"], r["name"].removeprefix("test_"), _time_text(r["median"]),
                      _rate_text(r["rate"], r["unit"]), ratio, r["target"], notes])
    if markdown:
        lines = [head, "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(row) + " |" for row in table]
        return "\n".join(lines)
    widths = [max(len(c), *(len(row[i]) for row in table)) if table else len(c) for i, c in enumerate(cols)]
    fmt = "  ".join(f"{{:{w}}}" for w in widths)
    lines = [head, "", fmt.format(*cols), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row) for row in table]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    markdown = "--markdown" in argv
    paths = [a for a in argv if not a.startswith("--")]
    path = Path(paths[0]) if paths else DEFAULT
    if not path.exists():
        print(f"no benchmark results at {path}: run `make bench` first", file=sys.stderr)
        return 1
    print(render(json.loads(path.read_text()), markdown))
    missed = sum("MISSED" in r["target"] for r in rows_from(json.loads(path.read_text())))
    if missed:
        print(f"\n{missed} target(s) missed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
