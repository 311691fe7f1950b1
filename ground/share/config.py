"""A party's configuration file (JSON) and how a running party is built from it.

    {"name": "soc", "database": "soc.sqlite", "results": "results/", "archive": "/data/archive",
     "engine": "local" | "dask://scheduler:8786", "workers": 2,
     "trust": {"opals-authority": "authority.pub"},
     "upstream_tokens": {"http://127.0.0.1:8801": "reseller.jwt"},
     "limits": {"wall_seconds": 120, "memory_bytes": 2147483648},
     "sources": [{"name": "hk-public", "packet": "HOUSEKEEPING", "map": {...},
                  "see_attrs": [], "run_attrs": ["public"]}]}

Relative paths are relative to the file.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ground.share.attributes import TrustStore
from ground.share.engine import open_engine
from ground.share.party import Party
from ground.share.sandbox import SandboxLimits
from ground.share.store import SourceDef, Store
from protocol.opals import DICTIONARY


def _path(base: Path, value: str | None) -> Path | None:
    if value is None:
        return None
    p = Path(value)
    return p if p.is_absolute() else base / p


def build_party(config_path: Path | str, engine: str | None = None) -> Party:
    config_path = Path(config_path)
    base = config_path.parent
    cfg: dict[str, Any] = json.loads(config_path.read_text())
    trust = TrustStore.from_files({k: _path(base, v) for k, v in cfg.get("trust", {}).items()})
    tokens = {}
    for url, value in cfg.get("upstream_tokens", {}).items():
        p = _path(base, value)
        tokens[url] = p.read_text().strip() if p is not None and p.exists() else value
    engine_spec = engine or cfg.get("engine", "local")
    party = Party(name=cfg["name"], store=Store(_path(base, cfg.get("database", f"{cfg['name']}.sqlite"))),
                  results_dir=_path(base, cfg.get("results", "results")), trust=trust, dictionary=DICTIONARY,
                  archive_root=_path(base, cfg.get("archive")), engine=open_engine(engine_spec, cfg.get("workers", 2)),
                  engine_name=engine_spec, upstream_tokens=tokens,
                  limits=SandboxLimits(**cfg.get("limits", {})))
    for s in cfg.get("sources", []):
        party.publish(SourceDef.from_dict(s))
    return party
