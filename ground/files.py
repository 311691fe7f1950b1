"""Ground side of the file downlink: a CCSDS CFDP destination entity (class 1 and class 2).

cfdp-py's ``DestHandler`` does the protocol (NAKs for gaps, checksum check, Finished with
positive ACK); received files are confined to ``out_dir`` by its ``RestrictedFilestore`` (a
payload cannot write outside it). Added around the library: a record of every transfer with
the CFDP checksum verdict and an independent CRC-32 of what landed on disk, an inactivity timer
on the injected clock (a transaction whose sender went silent is abandoned, reported, and the
receiver is free for the next file), and counters for malformed or stray PDUs.
"""
from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from cfdppy import CfdpState, IndicationConfig, LocalEntityConfig, RemoteEntityConfigTable
from cfdppy.handler.dest import DestHandler
from cfdppy.restricted_filestore import RestrictedFilestore
from cfdppy.user import CfdpUserBase, MetadataRecvParams, TransactionFinishedParams
from cfdppy.handler.dest import TransactionStep as DestStep
from cfdppy.handler.dest import LostSegmentTracker, acknowledge_inactive_eof_pdu
from spacepackets.cfdp import ConditionCode, Direction
from spacepackets.cfdp.pdu import DirectiveType, PduFactory
from spacepackets.cfdp.pdu.ack import TransactionStatus

from protocol.file_transfer import (GROUND_ENTITY_ID, PAYLOAD_ENTITY_ID, CfdpTimers, FixedCheckTimers,
                                    RecordingFaults, ack_for, entity, pdu_transaction_key, remote_config,
                                    transaction_key)

_LOG = logging.getLogger(__name__)


@dataclass
class ReceivedFile:
    name: str
    path: Path
    ok: bool                 # CFDP says complete and its checksum matched
    condition: str           # CFDP condition code name
    size: int
    crc32: int               # CRC-32 of the bytes on disk (compare with FILE_DIRECTORY.crc32)
    transaction: str


class _User(CfdpUserBase):
    def __init__(self, vfs) -> None:
        super().__init__(vfs)
        self.metadata: MetadataRecvParams | None = None
        self.finished: list[TransactionFinishedParams] = []

    def metadata_recv_indication(self, params: MetadataRecvParams) -> None:
        self.metadata = params

    def transaction_finished_indication(self, params: TransactionFinishedParams) -> None:
        self.finished.append(params)

    def transaction_indication(self, transaction_indication_params) -> None: ...
    def eof_sent_indication(self, transaction_id) -> None: ...
    def file_segment_recv_indication(self, params) -> None: ...
    def report_indication(self, transaction_id, status_report) -> None: ...
    def suspended_indication(self, transaction_id, cond_code) -> None: ...
    def resumed_indication(self, transaction_id, progress) -> None: ...
    def fault_indication(self, transaction_id, cond_code, progress) -> None: ...
    def abandoned_indication(self, transaction_id, cond_code, progress) -> None: ...
    def eof_recv_indication(self, transaction_id) -> None: ...


class FileReceiver:
    def __init__(self, send_pdu: Callable[[bytes], object], clock: Callable[[], float], out_dir: Path | str,
                 timers: CfdpTimers = CfdpTimers(), local_id: int = GROUND_ENTITY_ID,
                 remote_id: int = PAYLOAD_ENTITY_ID, on_file: Callable[[ReceivedFile], None] | None = None):
        self.send_pdu = send_pdu
        self.clock = clock
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.timers = timers
        self.on_file = on_file
        self.received: list[ReceivedFile] = []
        self.pdus_in = 0
        self.pdus_out = 0
        self.pdus_rejected = 0
        self.abandoned = 0
        self.stale = 0
        self.resumed_deferred = 0
        self.reconciled = 0
        self._eof_seen: dict[tuple[int, int], tuple[bytes, int]] = {}
        self._have: dict[tuple[int, int], list[list[int]]] = {}   # byte ranges fed, per transaction
        self._closed: set[tuple[int, int]] = set()   # transactions already reported
        self._faults = RecordingFaults()
        self._user = _User(RestrictedFilestore(self.out_dir))
        table = RemoteEntityConfigTable()
        table.add_config(remote_config(remote_id, timers))
        self._dest = DestHandler(LocalEntityConfig(entity(local_id), IndicationConfig(), self._faults),
                                 self._user, table, FixedCheckTimers(timers.check_interval))
        self._last_activity = clock()

    @property
    def busy(self) -> bool:
        return self._dest.state != CfdpState.IDLE

    def on_pdu(self, pdu: bytes) -> None:
        """One PDU from a FILE_PDU packet; anything the handler cannot take is counted."""
        self.pdus_in += 1
        try:
            packet = PduFactory.from_raw(pdu)
            if packet is None:
                raise ValueError("not a CFDP PDU")
            self._last_activity = self.clock()
            if getattr(packet, "directive_type", None) == DirectiveType.EOF_PDU:
                self._eof_seen[pdu_transaction_key(packet)] = (bytes(packet.file_checksum), packet.file_size)
            if not self._answer_closure(packet):
                starting = not self.busy
                if starting:
                    self._dest._params.acked_params.lost_seg_tracker.reset()
                written = self._writes_data(packet)
                self._dest.state_machine(packet)
                if written:
                    _add_interval(self._have.setdefault(pdu_transaction_key(packet), []),
                                  packet.offset, packet.offset + len(packet.file_data))
                if starting and self.busy:
                    self._private_lost_segments()
                self._keep_eof_checksum()
        except Exception as exc:  # noqa: BLE001 - any malformed or stray PDU is counted, never fatal
            _LOG.debug("PDU rejected: %s", exc)
            self.pdus_rejected += 1
        self._drain()
        self._collect()

    def _answer_closure(self, packet) -> bool:
        """EOF re-sent because our ACK was lost: ACK it again (CCSDS 727.0-B-5 4.7.2) instead of
        letting cfdp-py ignore it, or, once the transaction is over, start a new transaction.
        Other PDUs of a transaction already reported are stale and dropped."""
        key = pdu_transaction_key(packet)
        is_eof = getattr(packet, "directive_type", None) == DirectiveType.EOF_PDU
        tid = self._dest.transaction_id
        active = self.busy and tid is not None and transaction_key(tid) == key
        if key in self._closed and not active:
            if is_eof:
                self._send(acknowledge_inactive_eof_pdu(packet, TransactionStatus.TERMINATED).pack())
            else:
                self.stale += 1
            return True
        if (is_eof and active
                and self._dest.step in (DestStep.WAITING_FOR_FINISHED_ACK, DestStep.SENDING_FINISHED_PDU)):
            self._send(ack_for(packet, DirectiveType.EOF_PDU, packet.condition_code, TransactionStatus.ACTIVE,
                               Direction.TOWARDS_SENDER).pack())
            return True
        return False

    def tick(self) -> None:
        """Timers: NAK/ACK/check (the library's) and inactivity (ours)."""
        if not self.busy:
            return
        self._resume_deferred_nak()
        self._reconcile_lost_segments()
        try:
            self._dest.state_machine()
        except Exception as exc:  # noqa: BLE001 - a library fault ends the transaction, not the process
            _LOG.debug("CFDP dest error: %s", exc)
        self._drain()
        self._collect()
        if self.busy and self.clock() - self._last_activity > self.timers.inactivity:
            self._record(False, "INACTIVITY_DETECTED")
            self._dest.reset()
            self.abandoned += 1

    def _private_lost_segments(self) -> None:
        """Work around cfdp-py 0.7: ``_AckedModeParams.lost_seg_tracker`` is a dataclass default
        instance shared by every transaction (and handler) in the process, so a transaction that
        ended in a fault leaves its gaps to the next one, which then NAKs offsets its sender
        never had. Each transaction gets its own tracker, and the shared one is emptied."""
        acked = self._dest._params.acked_params
        shared = acked.lost_seg_tracker
        own = LostSegmentTracker()
        own.lost_segments = list(shared.lost_segments)
        shared.reset()
        acked.lost_seg_tracker = own

    def _writes_data(self, packet) -> bool:
        """Whether the handler will write this file data (it drops data that precedes Metadata)."""
        if getattr(packet, "file_data", None) is None or not len(packet.file_data) or not self.busy:
            return False
        tid = self._dest.transaction_id
        acked = self._dest._params.acked_params
        return (tid is not None and transaction_key(tid) == pdu_transaction_key(packet)
                and not acked.metadata_missing
                and self._dest.step in (DestStep.RECEIVING_FILE_DATA, DestStep.WAITING_FOR_MISSING_DATA,
                                        DestStep.RECV_FILE_DATA_WITH_CHECK_LIMIT_HANDLING))

    def _reconcile_lost_segments(self) -> None:
        """Work around cfdp-py 0.7: in some orders of arrival (data before a lost Metadata, then
        retransmissions) a re-sent segment is written but never removed from the lost list, and
        the handler NAKs it until the NAK limit. Drop from the list what was already fed in."""
        tid = self._dest.transaction_id
        acked = getattr(self._dest._params, "acked_params", None)
        if tid is None or acked is None or self._dest.step != DestStep.WAITING_FOR_MISSING_DATA:
            return
        have = self._have.get(transaction_key(tid), [])
        lost = acked.lost_seg_tracker.lost_segments
        still = [piece for seg in lost for piece in _subtract(seg, have)]
        if still != lost:
            acked.lost_seg_tracker.lost_segments = still
            self.reconciled += 1

    def _keep_eof_checksum(self) -> None:
        """Work around cfdp-py 0.7: an EOF that arrives before the (lost) Metadata PDU is ACKed
        but its checksum is not kept, so the file later fails verification though intact."""
        tid = self._dest.transaction_id
        fp = getattr(self._dest._params, "fp", None)
        if self.busy and tid is not None and fp is not None and not fp.crc32:
            eof = self._eof_seen.get(transaction_key(tid))
            if eof is not None:
                fp.crc32 = eof[0]

    def _resume_deferred_nak(self) -> None:
        """Work around cfdp-py 0.7: when the Metadata PDU is lost, the EOF arrives and is ACKed,
        and the Metadata is then re-sent, the handler goes back to RECEIVING_FILE_DATA with the
        deferred lost-segment procedure still active, and nothing drives it any more (the sender,
        its EOF ACKed, only waits for Finished). Put it back in the state that drives NAKs."""
        acked = getattr(self._dest._params, "acked_params", None)
        if (acked is not None and acked.deferred_lost_segment_detection_active
                and self._dest.step == DestStep.RECEIVING_FILE_DATA):
            self._dest.states.step = DestStep.WAITING_FOR_MISSING_DATA
            self.resumed_deferred += 1

    def _drain(self) -> None:
        while self._dest.packets_ready:
            self._send(self._dest.get_next_packet().pack())

    def _send(self, pdu: bytes) -> None:
        self.send_pdu(pdu)
        self.pdus_out += 1

    def _collect(self) -> None:
        while self._user.finished:
            fin = self._user.finished.pop(0)
            fp = fin.finished_params
            ok = fp.condition_code == ConditionCode.NO_ERROR and self._faults.last is None
            key = transaction_key(fin.transaction_id)
            if key not in self._closed:
                self._record(ok, fp.condition_code.name, str(fin.transaction_id))
            self._closed.add(key)
            self._faults.last = None

    def _record(self, ok: bool, condition: str, transaction: str = "") -> None:
        md = self._user.metadata
        name = md.dest_file_name if md and md.dest_file_name else "?"
        path = self.out_dir / Path(name.lstrip("/"))
        data = path.read_bytes() if path.is_file() else b""
        rf = ReceivedFile(name, path, ok and path.is_file(), condition, len(data), zlib.crc32(data), transaction)
        self.received.append(rf)
        if self.on_file:
            self.on_file(rf)


def _add_interval(spans: list[list[int]], start: int, end: int) -> None:
    """Insert [start, end) into a sorted list of disjoint spans, merging neighbours."""
    spans.append([start, end])
    spans.sort()
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    spans[:] = merged


def _subtract(seg: tuple[int, int], have: list[list[int]]) -> list[tuple[int, int]]:
    """The parts of [seg) not covered by the spans in ``have``."""
    out, (a, b) = [], seg
    for s, e in have:
        if e <= a or s >= b:
            continue
        if s > a:
            out.append((a, s))
        a = max(a, e)
        if a >= b:
            break
    if a < b:
        out.append((a, b))
    return out
