"""The pass report, built from the archive alone: out/<pass>/report.html with PNG plots.

Gimbal az/el against the field-of-regard bounds, pointing error against the 140 urad
requirement, the laser state with every inhibit over time, link statistics (packets per APID,
sequence gaps), and the files received with their verification. Everything is read back from
the Parquet archive, so a report can be regenerated for any archived pass.
"""
from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ground.archive import Archive  # noqa: E402
from protocol.time_codes import tai_to_datetime  # noqa: E402
from protocol.opals import AZ_RANGE_DEG, EL_RANGE_DEG, LASER_STATES, SAFETY_BITS, TRACK_STATES  # noqa: E402

POINTING_REQUIREMENT_URAD = 140.0
LOCKED = next(k for k, v in TRACK_STATES.items() if v == "LOCKED")
EMITTING = next(k for k, v in LASER_STATES.items() if v == "EMITTING")


@dataclass
class ApidCompleteness:
    packet: str
    received: int
    first_seq: int | None
    gaps: int          # packets missing between the first and the last received, by sequence count
    duplicates: int


@dataclass
class PassStats:
    start_tai: float | None = None
    end_tai: float | None = None
    tracking_samples: int = 0
    locked_samples: int = 0
    err_locked_p50: float | None = None
    err_locked_max: float | None = None
    err_locked_3sigma: float | None = None
    within_requirement: float | None = None   # fraction of locked samples with err <= 140 urad
    # OPALS's requirement is on the transmission (laser on), not on the pull-in after lock:
    transmit_samples: int = 0
    err_transmit_p50: float | None = None
    err_transmit_3sigma: float | None = None
    transmit_within_requirement: float | None = None
    emitting_s: float = 0.0
    emitting_unauthorised_samples: int = 0    # SAFETY samples emitting without (armed|firing)+locked+pointing ok
    emission_unauthorised_onsets: int = 0     # emission that STARTED without authorisation (must be 0)
    safing_latency_max_s: float = 0.0         # longest emission after authorisation was withdrawn
    az_range: tuple[float, float] | None = None
    el_range: tuple[float, float] | None = None
    completeness: list[ApidCompleteness] = field(default_factory=list)


def completeness(archive: Archive) -> list[ApidCompleteness]:
    """Per packet: how many were archived, and how many are missing or doubled by sequence count."""
    out = []
    for name in archive.dictionary.telemetry:
        t = archive.query(name, columns=[])
        if t.num_rows == 0:
            continue
        seq = t.column("seq").to_numpy().astype(np.int64)
        tai = t.column("tai").to_numpy()
        # Order by time; a 14-bit counter wraps, so count steps modulo 16384.
        step = np.diff(seq) % 16384
        gaps = int(np.sum(np.where(step > 0, step - 1, 0)))
        dups = int(np.sum((step == 0) & (np.diff(tai) == 0)))
        out.append(ApidCompleteness(name, t.num_rows, int(seq[0]), gaps, dups))
    return out


def emission_mask(archive: Archive, tai: np.ndarray) -> np.ndarray:
    """Which of the times ``tai`` fall between a LASER_FIRED event and the next LASER_SAFED:
    the events carry the exact cycle, where the 1 Hz SAFETY packets would blur the edges."""
    ev = archive.query_numpy("EVENT", columns=["event_id"])
    fired = archive.dictionary.events["LASER_FIRED"].event_id
    safed = archive.dictionary.events["LASER_SAFED"].event_id
    mask = np.zeros(len(tai), dtype=bool)
    start = None
    for t, eid in zip(ev["tai"].tolist(), ev["event_id"].tolist()):
        if eid == fired and start is None:
            start = t
        elif eid == safed and start is not None:
            mask |= (tai >= start) & (tai < t)
            start = None
    if start is not None:
        mask |= tai >= start
    return mask


def pass_stats(archive: Archive) -> PassStats:
    st = PassStats()
    tr = archive.query_numpy("TRACKING", columns=["track_state", "az", "el", "err_total"])
    if len(tr["tai"]):
        st.start_tai, st.end_tai = float(tr["tai"][0]), float(tr["tai"][-1])
        st.tracking_samples = len(tr["tai"])
        locked = tr["track_state"] == LOCKED
        st.locked_samples = int(locked.sum())
        if locked.any():
            e = tr["err_total"][locked].astype(np.float64)
            st.err_locked_p50 = float(np.median(e))
            st.err_locked_max = float(e.max())
            st.err_locked_3sigma = float(3 * np.sqrt(np.mean(e ** 2)))
            st.within_requirement = float(np.mean(e <= POINTING_REQUIREMENT_URAD))
        on = emission_mask(archive, tr["tai"])
        if on.any():
            e = tr["err_total"][on].astype(np.float64)
            st.transmit_samples = int(on.sum())
            st.err_transmit_p50 = float(np.median(e))
            st.err_transmit_3sigma = float(3 * np.sqrt(np.mean(e ** 2)))
            st.transmit_within_requirement = float(np.mean(e <= POINTING_REQUIREMENT_URAD))
        st.az_range = (float(tr["az"].min()), float(tr["az"].max()))
        st.el_range = (float(tr["el"].min()), float(tr["el"].max()))
    sf = archive.query_numpy("SAFETY", columns=["status_word", "laser_state"])
    if len(sf["tai"]) > 1:
        word = sf["status_word"].astype(np.int64)
        emitting = ((word >> SAFETY_BITS["laser_emitting"]) & 1).astype(bool) | (sf["laser_state"] == EMITTING)
        dt = np.diff(sf["tai"], append=sf["tai"][-1])
        st.emitting_s = float(dt[emitting].sum())
        bit = {b: ((word >> n) & 1).astype(bool) for b, n in SAFETY_BITS.items()}
        authorised = (bit["sw_armed"] | bit["sw_fire_enabled"]) & bit["track_locked"] & bit["sw_pointing_ok"]
        onsets = np.flatnonzero(emitting & ~np.concatenate(([False], emitting[:-1])))
        st.emission_unauthorised_onsets = int(np.sum(~authorised[onsets]))
        # Authorisation withdrawn while emitting (lock lost, pass end): from the first sample that
        # shows it to the first sample that shows the laser dark.
        latency = 0.0
        since = None
        for k in range(len(word)):
            if emitting[k] and not authorised[k]:
                since = sf["tai"][k] if since is None else since
            elif not emitting[k] and since is not None:
                latency = max(latency, float(sf["tai"][k] - since))
                since = None
            elif authorised[k]:
                since = None
        if since is not None:
            latency = float("inf")   # still emitting unauthorised at the end of the archive
        st.safing_latency_max_s = latency
        st.emitting_unauthorised_samples = int(np.sum(emitting & ~authorised))
    st.completeness = completeness(archive)
    return st


def _time_axis(tai: np.ndarray, t0: float) -> np.ndarray:
    return tai - t0


def plot_gimbal(archive: Archive, path: Path, t0: float) -> None:
    d = archive.query_numpy("TRACKING", columns=["az", "el", "az_cmd", "el_cmd"])
    fig, axes = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True)
    x = _time_axis(d["tai"], t0)
    for ax, key, lim in ((axes[0], "az", AZ_RANGE_DEG), (axes[1], "el", EL_RANGE_DEG)):
        ax.plot(x, d[key], lw=1, label=f"{key} measured")
        ax.plot(x, d[f"{key}_cmd"], lw=0.8, ls="--", label=f"{key} commanded")
        for v in lim:
            ax.axhline(v, color="red", lw=1)
        ax.axhspan(lim[0], lim[1], color="green", alpha=0.05, label="field of regard")
        ax.set_ylabel(f"{key} (deg from nadir)")
        ax.legend(loc="upper right", fontsize=7)
    axes[1].set_xlabel("s since the first tracking sample")
    fig.suptitle("Gimbal pointing against the derated field of regard")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_pointing(archive: Archive, path: Path, t0: float) -> None:
    d = archive.query_numpy("TRACKING", columns=["err_total", "track_state"])
    fig, ax = plt.subplots(figsize=(9, 3.5))
    x = _time_axis(d["tai"], t0)
    locked = d["track_state"] == LOCKED
    ax.plot(x[locked], d["err_total"][locked], ".", ms=2, label="locked")
    ax.axhline(POINTING_REQUIREMENT_URAD, color="red", lw=1, label="140 urad requirement")
    ax.set_yscale("log")
    ax.set_ylabel("pointing error (urad)")
    ax.set_xlabel("s since the first tracking sample")
    ax.legend(loc="upper right", fontsize=7)
    ax.set_title("Beacon pointing error while locked")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_laser(archive: Archive, path: Path, t0: float) -> None:
    d = archive.query_numpy("SAFETY", columns=["status_word", "laser_state"])
    fig, ax = plt.subplots(figsize=(9, 5))
    x = _time_axis(d["tai"], t0)
    word = d["status_word"].astype(np.int64)
    names = list(SAFETY_BITS)
    for i, name in enumerate(names):
        bit = (word >> SAFETY_BITS[name]) & 1
        ax.step(x, i + 0.7 * bit, where="post", lw=1)
    ax.step(x, len(names) + 0.2 * d["laser_state"], where="post", lw=1.5, color="black")
    ax.set_yticks([i + 0.35 for i in range(len(names))] + [len(names) + 0.3])
    ax.set_yticklabels(names + ["laser state (0 OFF .. 3 EMITTING)"], fontsize=7)
    ax.set_xlabel("s since the first tracking sample")
    ax.set_title("Laser state and every inhibit (raised = set)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_link(archive: Archive, path: Path, t0: float) -> None:
    fig, ax = plt.subplots(figsize=(9, 3.5))
    for name in archive.dictionary.telemetry:
        t = archive.query(name, columns=[])
        if t.num_rows < 2:
            continue
        x = _time_axis(t.column("tai").to_numpy(), t0)
        bins = np.arange(np.floor(x.min()), np.ceil(x.max()) + 10, 10)
        counts, edges = np.histogram(x, bins=bins)
        ax.step(edges[:-1], counts / 10.0, where="post", label=name, lw=1)
    ax.set_ylabel("packets/s (10 s bins)")
    ax.set_xlabel("s since the first tracking sample")
    ax.set_yscale("symlog")
    ax.legend(loc="upper right", fontsize=7, ncol=2)
    ax.set_title("Telemetry received per packet type")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def file_table(archive: Archive, received: list[Any]) -> list[dict[str, Any]]:
    """Received files against the payload's FILE_DIRECTORY (size and CRC-32 of the original)."""
    directory: dict[str, dict] = {}
    d = archive.query_numpy("FILE_DIRECTORY", columns=["file_id", "size", "crc32", "kind"])
    for i in range(len(d["tai"])):
        directory[int(d["file_id"][i])] = {"size": int(d["size"][i]), "crc32": int(d["crc32"][i])}
    by_crc = {(v["size"], v["crc32"]) for v in directory.values()}
    rows = []
    for f in received:
        matches = (f.size, f.crc32) in by_crc
        rows.append({"name": f.name, "size": f.size, "crc32": f"{f.crc32:08x}", "cfdp": f.condition,
                     "cfdp_ok": f.ok, "matches_directory": matches})
    return rows


@dataclass
class OpticalPassInputs:
    """What the optical section is built from: the ground's decode of the receiver recording
    (ground.pass_operations.OpticalOutcome), the simulator's frame-level account of the whole pass
    (its summary's "optical" part, with the per-second timeline), and the coding curves."""

    decoded: Any | None = None
    link: dict | None = None
    curves: list[Any] = field(default_factory=list)     # ground.optical.report.CurvePoint
    curve_frames: int = 0


CURVE_SNR_DB = tuple(6.5 + 0.25 * i for i in range(13))   # 6.5 .. 9.5 dB: the whole FER waterfall
CURVE_FRAMES = 2000                                        # per point: FER resolved to 5e-4


def cached_coding_curves(path: Path, snr_db: tuple[float, ...] = CURVE_SNR_DB, frames: int = CURVE_FRAMES,
                         seed: int = 0) -> list[Any]:
    """The coding chain's BER/FER-vs-SNR curves (ground.optical.report.measure_coding_curves),
    measured once and kept in ``path`` (JSON) for later passes with the same points."""
    from ground.optical.report import CurvePoint, measure_coding_curves, save_curves

    key = {"snr_db": list(snr_db), "frames": frames, "seed": seed}
    if path.exists():
        try:
            doc = json.loads(path.read_text())
            if doc.get("key") == key:
                return [CurvePoint(**p) for p in doc["points"]]
        except (ValueError, KeyError, TypeError):
            pass    # a damaged cache is measured again
    points = measure_coding_curves(list(snr_db), frames=frames, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_curves(points, path)
    path.write_text(json.dumps({"key": key, "points": json.loads(path.read_text())}))
    return points


def plot_optical_fer(opt: OpticalPassInputs, path: Path, t0: float) -> None:
    tl = (opt.link or {}).get("timeline") or []
    fig, axes = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    if tl:
        x = np.array([r["tai"] for r in tl]) - t0
        frames = np.array([r["frames"] for r in tl], dtype=float)
        failed = np.array([r["failed"] for r in tl], dtype=float)
        fer = np.divide(failed, frames, out=np.zeros_like(frames), where=frames > 0)
        axes[0].step(x, np.where(fer > 0, fer, np.nan), where="post", lw=1, label="FER per 1 s (frame level, simulator)")
        axes[0].plot(x[(fer == 0) & (frames > 0)], np.full(int(((fer == 0) & (frames > 0)).sum()), 1e-4), "|",
                     color="green", label="no frame lost in that second")
        snr = np.array([r["mean_snr_db"] if r["mean_snr_db"] is not None else np.nan for r in tl], dtype=float)
        axes[1].step(x, snr, where="post", lw=1)
    rec = (opt.link or {}).get("recording") or {}
    if rec.get("start_tai") is not None and rec.get("end_tai") is not None:
        for ax in axes:
            ax.axvspan(rec["start_tai"] - t0, rec["end_tai"] - t0, color="orange", alpha=0.2,
                       label="recorded at bit level, decoded by ground" if ax is axes[0] else None)
        if opt.decoded is not None:
            r = opt.decoded.report
            axes[0].hlines(max(r["frame_error_rate"], 1e-4), rec["start_tai"] - t0, rec["end_tai"] - t0, color="red",
                           lw=2, label=f"ground decoder FER {r['frame_error_rate']:.3g} ({r['frames']} frames)")
    axes[0].set_yscale("log")
    axes[0].set_ylim(5e-5, 1.5)
    axes[0].set_ylabel("frame error rate")
    axes[0].legend(loc="upper right", fontsize=7)
    axes[1].set_ylabel("mean received SNR Q^2 (dB)")
    axes[1].set_xlabel("s since the first tracking sample")
    fig.suptitle("Optical downlink over the pass")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def optical_section(opt: OpticalPassInputs, out: Path, t0: float) -> tuple[str, dict[str, Any]]:
    """HTML of the optical section and the figures it quotes (for summary.json)."""
    from ground.optical.report import plot_curves, theoretical_fer

    plot_optical_fer(opt, out / "optical_fer.png", t0)
    figures: dict[str, Any] = {}
    link = opt.link or {}
    if link:
        figures.update({f"pass {k.replace('_', ' ')}": link.get(k) for k in
                        ("frames", "frames_failed", "frame_error_rate", "frames_unlit", "mean_snr_db", "emit_s")})
        rec = link.get("recording") or {}
        if rec:
            figures["recorded slice: frames sent"] = rec.get("frames")
            figures["recorded slice: frames lost (channel truth)"] = rec.get("frames_failed")
            figures["recorded slice: channel BER"] = rec.get("channel_ber")
    d = opt.decoded
    if d is not None:
        r = d.report
        figures.update({"ground decoder: " + k.replace("_", " "): r[k] for k in
                        ("frames", "frames_good", "frames_corrected", "frames_failed", "frame_error_rate",
                         "symbols_corrected", "lock_losses", "bytes_recovered", "file_size", "file_complete")})
        figures["ground decoder: segments equal to the source"] = f"{d.segments_matching} / {d.segments}"
        figures["ground decoder: whole file equal to the source"] = ("yes" if d.file_equal else "NO") \
            if d.file_equal is not None else "file not complete in the slice"
        figures["ground decoder: CPU s"] = d.decode_cpu_s
    curves = ""
    if opt.curves:
        plot_curves(opt.curves, out / "optical_curves.png")
        rows = "".join(f"<tr><td>{p.snr_db:.1f}</td><td>{p.channel_ber:.3g}</td><td>{p.frames}</td>"
                       f"<td>{p.frame_errors}</td><td>{p.fer:.3g}</td><td>{theoretical_fer(p.channel_ber):.3g}</td>"
                       f"<td>{p.residual_ber:.3g}</td></tr>" for p in opt.curves)
        curves = (f"<h3>BER and FER against received SNR (Monte-Carlo, {opt.curve_frames} frames per point)</h3>"
                  f"<img src=\"optical_curves.png\"><table><tr><th>SNR (dB)</th><th>channel BER</th><th>frames</th>"
                  f"<th>lost</th><th>FER</th><th>FER theory</th><th>residual BER</th></tr>{rows}</table>")
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(_fmt(v))}</td></tr>" for k, v in figures.items())
    note = ("<p>Flight plays the stand-in video out as coded frames while its photodiode senses emission in "
            "TRANSMIT. The FER over the pass is the simulator's frame-level account of every frame on the beam; "
            "the shaded slice was recorded at bit level by the ground receiver and decoded here by the ground "
            "decoder, each recovered segment compared with the source file. Pass SNR is the mean without "
            "scintillation: millisecond fades take the instantaneous SNR down into the curves' waterfall.</p>")
    page = (f"<h2>Optical downlink</h2>{note}<img src=\"optical_fer.png\"><table>{rows}</table>{curves}")
    return page, figures


def write_report(archive: Archive, out_dir: Path | str, title: str, received_files: list[Any] = (),
                 extra: dict[str, Any] | None = None, optical: OpticalPassInputs | None = None) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    st = pass_stats(archive)
    t0 = st.start_tai or 0.0
    plots = {"gimbal.png": plot_gimbal, "pointing.png": plot_pointing, "laser.png": plot_laser, "link.png": plot_link}
    for name, fn in plots.items():
        fn(archive, out / name, t0)
    files = file_table(archive, list(received_files))
    optical_html, optical_figures = optical_section(optical, out, t0) if optical is not None else ("", {})
    summary = {"title": title, "stats": asdict(st), "files": files, **(extra or {})}
    if optical is not None:
        summary["optical"] = optical_figures
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    shown = {k: v for k, v in asdict(st).items() if k != "completeness"}
    for k in ("start_tai", "end_tai"):
        if shown.get(k) is not None:
            shown[k.replace("_tai", "_utc")] = tai_to_datetime(shown.pop(k)).isoformat(timespec="seconds")
    onboard = archive.query("PASS_SUMMARY")
    if onboard.num_rows:   # the payload's own tracking statistics of the pass, if it sent them
        last = onboard.slice(onboard.num_rows - 1).to_pylist()[0]
        shown.update({f"onboard {k}": v for k, v in last.items() if k not in ("time", "tai", "seq")})
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(_fmt(v))}</td></tr>" for k, v in shown.items())
    comp = "".join(f"<tr><td>{c.packet}</td><td>{c.received}</td><td>{c.first_seq}</td><td>{c.gaps}</td>"
                   f"<td>{c.duplicates}</td></tr>" for c in st.completeness)
    ftab = "".join(f"<tr><td>{html.escape(f['name'])}</td><td>{f['size']}</td><td>{f['crc32']}</td>"
                   f"<td>{f['cfdp']}</td><td>{'yes' if f['matches_directory'] else 'NO'}</td></tr>" for f in files)
    ex = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_fmt(v))}</td></tr>"
                 for k, v in (extra or {}).items())
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:auto}}td,th{{border:1px solid #ccc;padding:2px 6px}}
table{{border-collapse:collapse;margin:8px 0}}</style></head><body>
<h1>{html.escape(title)}</h1>
<h2>Summary</h2><table>{rows}{ex}</table>
<h2>Gimbal</h2><img src="gimbal.png">
<h2>Pointing error</h2><img src="pointing.png">
<h2>Laser and inhibits</h2><img src="laser.png">
<h2>Link</h2><img src="link.png">
<table><tr><th>packet</th><th>archived</th><th>first seq</th><th>missing (by seq)</th><th>duplicates</th></tr>{comp}</table>
<h2>Files</h2><table><tr><th>file</th><th>bytes</th><th>CRC-32</th><th>CFDP</th><th>matches FILE_DIRECTORY</th></tr>{ftab}</table>
{optical_html}
</body></html>"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, tuple):
        return "(" + ", ".join(_fmt(x) for x in v) + ")"
    return str(v)
