"""Ground segment and science operations centre: knows the payload only through the dictionary
(``protocol``) and the link (``links``), never by importing ``flight`` or ``sim``."""
from __future__ import annotations


def __getattr__(name: str):
    # Lazy, so `import ground.archive_layout` (HAPI, sharing) does not pull in the whole session.
    if name in ("Session", "CommandResult", "CommandError", "HazardousCommandError", "TimedCommand"):
        from ground import session
        return getattr(session, name)
    raise AttributeError(name)


__all__ = ["Session", "CommandResult", "CommandError", "HazardousCommandError", "TimedCommand"]
