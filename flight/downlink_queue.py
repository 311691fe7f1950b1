"""Files waiting for downlink: hands them one at a time to the CFDP sender (the injected
flight/file_downlink.py), reports each start and end as events, and says when the batch is done."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from flight.file_store import FileEntry, FileStore


class FileDownlinkLike(Protocol):
    busy: bool

    def start(self, file_id: int, path: Path, dest_name: str, cfdp_class: int) -> None: ...

    def on_pdu(self, pdu: bytes) -> None: ...

    def tick(self) -> None: ...


@dataclass
class DownlinkQueue:
    store: FileStore
    event: Callable[..., None]
    on_batch_done: Callable[[bool], None]          # every queued file finished (all ok?)
    sender: FileDownlinkLike | None = None
    _queue: list[tuple[FileEntry, int]] = field(default_factory=list)
    _active: FileEntry | None = None
    _failed: bool = False
    in_progress: bool = False

    def queue(self, entries: list[FileEntry], cfdp_class: int) -> str | None:
        """Start a batch; a reason name when it cannot (no sender, a batch already running)."""
        if self.sender is None:
            return "EXECUTION_FAILED"
        if self.in_progress:
            return "BUSY"
        self._queue = [(e, cfdp_class) for e in entries]
        self._failed = False
        self.in_progress = bool(entries)
        return None

    def tick(self) -> None:
        if self.sender is None:
            return
        self.sender.tick()
        if self.sender.busy or self._active is not None or not self.in_progress:
            return
        while self._queue:
            e, cls = self._queue.pop(0)
            if e.file_id in self.store.files:          # deleted meanwhile: skip it
                self._active = e
                self.event("DOWNLINK_STARTED", e.file_id, cls)
                self.sender.start(e.file_id, e.path, e.path.name, cls)
                return
        self.in_progress = False
        self.on_batch_done(not self._failed)

    def on_complete(self, file_id: int, ok: bool, code: int) -> None:
        """The CFDP sender's callback."""
        e = self.store.files.get(file_id)
        if ok:
            if e is not None:
                e.downlinked = True
            self.event("DOWNLINK_COMPLETE", file_id)
        else:
            self._failed = True
            self.event("DOWNLINK_FAILED", file_id, code)
        if self._active is not None and self._active.file_id == file_id:
            self._active = None

    @property
    def busy(self) -> bool:
        return self.in_progress or (self.sender is not None and self.sender.busy)
