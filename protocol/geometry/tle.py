"""The bundled ISS two-line element sets from the OPALS first-light epoch (June 2014)."""
from __future__ import annotations

from pathlib import Path

DEFAULT_TLE_PATH = Path(__file__).resolve().parent.parent / "data" / "iss_2014.tle"


def load_tles(path: str | Path | None = None) -> list[tuple[str, str]]:
    """Every (line1, line2) pair in a TLE file (2-line or 3-line with names; '#' lines are comments)."""
    text = Path(path or DEFAULT_TLE_PATH).read_text(encoding="ascii", errors="replace")
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    pairs: list[tuple[str, str]] = []
    for i, line in enumerate(lines[:-1]):
        nxt = lines[i + 1]
        if line.startswith("1 ") and nxt.startswith("2 ") and line[2:7] == nxt[2:7]:
            for ln in (line, nxt):
                if not tle_checksum_ok(ln):
                    raise ValueError(f"TLE checksum mismatch: {ln!r}")
            pairs.append((line, nxt))
    if not pairs:
        raise ValueError(f"no two-line element set in {path or DEFAULT_TLE_PATH}")
    return pairs


def load_tle(path: str | Path | None = None) -> tuple[str, str]:
    """The first element set of a TLE file (default: the bundled ISS set of 31 May 2014)."""
    return load_tles(path)[0]


def tle_checksum_ok(line: str) -> bool:
    """Modulo-10 checksum of a TLE line: digits count their value, '-' counts one."""
    if len(line) < 69 or not line[68].isdigit():
        return False
    total = sum(int(c) if c.isdigit() else (c == "-") for c in line[:68])
    return total % 10 == int(line[68])
