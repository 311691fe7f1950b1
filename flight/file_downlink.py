"""Flight side of the file downlink: a CCSDS CFDP (727.0-B) source entity, class 1 and class 2.

The protocol machine is cfdp-py's ``SourceHandler``; this wrapper adds what operations need and
the library leaves to its user: a queue of files (the handler runs one transaction at a time),
flow control (a bounded number of PDUs per flight cycle), an inactivity timer on the injected
clock (a ground that never answers ends the transaction with a failure code instead of blocking
the file store forever), and generous positive-ACK limits so a class-2 transfer survives a
loss-of-signal gap: after LOS the EOF is re-sent and the ground's NAKs fill the holes.

Interface (called by the flight executive)::

    FileDownlink(send_pdu, clock, on_complete)   # on_complete(file_id, ok, condition_code)
        .start(file_id, path, dest_name, cfdp_class); .on_pdu(pdu); .tick(); .busy
"""
from __future__ import annotations

import collections
import logging
import pathlib
from dataclasses import dataclass
from typing import Callable

from cfdppy import CfdpState, IndicationConfig, LocalEntityConfig, PutRequest, RemoteEntityConfigTable
from cfdppy.handler.source import SourceHandler
from cfdppy.handler.source import TransactionStep as SourceStep
from cfdppy.user import CfdpUserBase, TransactionFinishedParams
from spacepackets.cfdp import ConditionCode, Direction, TransmissionMode
from spacepackets.cfdp.pdu import DirectiveType, PduFactory
from spacepackets.cfdp.pdu.ack import TransactionStatus
from spacepackets.seqcount import SeqCountProvider

from protocol.file_transfer import (GROUND_ENTITY_ID, PAYLOAD_ENTITY_ID, TRANSACTION_SEQ_BITS, CfdpTimers,
                                    FixedCheckTimers, RecordingFaults, ack_for, entity, pdu_transaction_key,
                                    remote_config, transaction_key)

_LOG = logging.getLogger(__name__)

# Condition codes reported through on_complete beyond the CFDP ones (CFDP uses 0..15).
CODE_INACTIVITY = int(ConditionCode.INACTIVITY_DETECTED)
CODE_NO_SUCH_FILE = int(ConditionCode.FILESTORE_REJECTION)


class _User(CfdpUserBase):
    def __init__(self) -> None:
        super().__init__()
        self.finished: list[TransactionFinishedParams] = []

    def transaction_indication(self, transaction_indication_params) -> None:
        pass

    def eof_sent_indication(self, transaction_id) -> None:
        pass

    def transaction_finished_indication(self, params: TransactionFinishedParams) -> None:
        self.finished.append(params)

    def metadata_recv_indication(self, params) -> None:
        pass

    def file_segment_recv_indication(self, params) -> None:
        pass

    def report_indication(self, transaction_id, status_report) -> None:
        pass

    def suspended_indication(self, transaction_id, cond_code) -> None:
        pass

    def resumed_indication(self, transaction_id, progress) -> None:
        pass

    def fault_indication(self, transaction_id, cond_code, progress) -> None:
        pass

    def abandoned_indication(self, transaction_id, cond_code, progress) -> None:
        pass

    def eof_recv_indication(self, transaction_id) -> None:
        pass


@dataclass
class _Job:
    file_id: int
    path: pathlib.Path
    dest_name: str
    cfdp_class: int


class FileDownlink:
    def __init__(self, send_pdu: Callable[[bytes], None], clock: Callable[[], float],
                 on_complete: Callable[[int, bool, int], None], timers: CfdpTimers = CfdpTimers(),
                 local_id: int = PAYLOAD_ENTITY_ID, remote_id: int = GROUND_ENTITY_ID):
        self.send_pdu = send_pdu
        self.clock = clock
        self.on_complete = on_complete
        self.timers = timers
        self.remote_id = remote_id
        self._faults = RecordingFaults()
        self._user = _User()
        table = RemoteEntityConfigTable()
        table.add_config(remote_config(remote_id, timers))
        self._source = SourceHandler(
            LocalEntityConfig(entity(local_id), IndicationConfig(), self._faults), self._user, table,
            FixedCheckTimers(timers.check_interval), SeqCountProvider(TRANSACTION_SEQ_BITS))
        self._queue: collections.deque[_Job] = collections.deque()
        self._job: _Job | None = None
        self._last_activity = 0.0
        self.pdus_sent = 0
        self.pdus_rejected = 0
        self._closed: dict[tuple[int, int], ConditionCode] = {}   # transactions finished here

    @property
    def busy(self) -> bool:
        return self._job is not None or bool(self._queue)

    def start(self, file_id: int, path: pathlib.Path, dest_name: str, cfdp_class: int) -> None:
        """Queue one file; it is sent when the transactions before it have finished."""
        if cfdp_class not in (1, 2):
            raise ValueError(f"CFDP class must be 1 or 2, not {cfdp_class}")
        self._queue.append(_Job(file_id, pathlib.Path(path), dest_name, cfdp_class))
        if self._job is None:
            self._next()

    def on_pdu(self, pdu: bytes) -> None:
        """A PDU from the ground (ACK, NAK, Finished); malformed or stray ones are counted."""
        try:
            packet = PduFactory.from_raw(pdu)
            if packet is None:
                raise ValueError("not a CFDP PDU")
            if self._answer_closure(packet):
                return
            if self._job is None:
                raise ValueError("no transaction active")
            self._last_activity = self.clock()
            self._source.state_machine(packet)
        except Exception as exc:  # noqa: BLE001 - any malformed or stray PDU is counted, never fatal
            _LOG.debug("ground PDU ignored: %s", exc)
            self.pdus_rejected += 1
        self._drain()
        self._check_done()

    def _answer_closure(self, packet) -> bool:
        """Closure cases cfdp-py's source leaves open; returns True when the PDU was consumed.

        - A Finished for a transaction already closed here (our ACK of it was lost): ACK again,
          or the ground would retry until its positive-ACK limit and fault a delivered file.
        - A Finished while still waiting for the EOF ACK (that ACK was lost): the Finished proves
          the EOF arrived, so the EOF ACK is implied; cfdp-py would otherwise ignore the Finished.
        """
        if getattr(packet, "directive_type", None) != DirectiveType.FINISHED_PDU:
            return False
        key = pdu_transaction_key(packet)
        if key in self._closed:
            self._send(ack_for(packet, DirectiveType.FINISHED_PDU, packet.condition_code,
                               TransactionStatus.TERMINATED, Direction.TOWARDS_RECEIVER).pack())
            return True
        tid = self._source.transaction_id
        if (self._job is not None and tid is not None and transaction_key(tid) == key
                and self._source.step == SourceStep.WAITING_FOR_EOF_ACK):
            self._source.state_machine(ack_for(packet, DirectiveType.EOF_PDU, ConditionCode.NO_ERROR,
                                               TransactionStatus.ACTIVE, Direction.TOWARDS_SENDER))
            self._drain()
        return False

    def tick(self) -> None:
        if self._job is None:
            return
        budget = self.timers.pdus_per_tick
        while budget > 0 and self._source.state != CfdpState.IDLE:
            before = self.pdus_sent
            try:
                self._source.state_machine()
            except Exception as exc:  # noqa: BLE001 - a library fault ends the transaction, not the process
                _LOG.warning("CFDP source error: %s", exc)
                self._finish(False, int(ConditionCode.CANCEL_REQUEST_RECEIVED))
                return
            self._drain()
            budget -= max(1, self.pdus_sent - before)
            if self.pdus_sent == before:
                break  # waiting for the ground (ACK, NAK or Finished)
        self._check_done()
        if self._job is not None and self.clock() - self._last_activity > self.timers.inactivity:
            self._source.reset()
            self._finish(False, CODE_INACTIVITY)

    # ------------------------------------------------------------------ internals
    def _next(self) -> None:
        while self._queue:
            job = self._queue.popleft()
            if not job.path.is_file():
                self.on_complete(job.file_id, False, CODE_NO_SUCH_FILE)
                continue
            mode = TransmissionMode.ACKNOWLEDGED if job.cfdp_class == 2 else TransmissionMode.UNACKNOWLEDGED
            req = PutRequest(destination_id=entity(self.remote_id), source_file=job.path,
                             dest_file=pathlib.Path(job.dest_name), trans_mode=mode,
                             closure_requested=mode == TransmissionMode.ACKNOWLEDGED)
            self._user.finished.clear()
            self._faults.last = None
            if not self._source.put_request(req):
                self.on_complete(job.file_id, False, int(ConditionCode.CANCEL_REQUEST_RECEIVED))
                continue
            self._job = job
            self._last_activity = self.clock()
            return

    def _drain(self) -> None:
        while self._source.packets_ready:
            self._send(self._source.get_next_packet().pack())

    def _send(self, pdu: bytes) -> None:
        self.send_pdu(pdu)
        self.pdus_sent += 1

    def _check_done(self) -> None:
        if self._job is None or self._source.state != CfdpState.IDLE:
            return
        fin = self._user.finished[-1] if self._user.finished else None
        if fin is not None:
            cond = fin.finished_params.condition_code
            if self._job.cfdp_class == 2:
                self._closed[transaction_key(fin.transaction_id)] = cond
            ok = cond == ConditionCode.NO_ERROR and self._faults.last is None
            self._finish(ok, int(cond if self._faults.last is None else self._faults.last))
        else:
            self._finish(self._faults.last is None, int(self._faults.last or ConditionCode.NO_ERROR))

    def _finish(self, ok: bool, code: int) -> None:
        job, self._job = self._job, None
        if job is not None:
            self.on_complete(job.file_id, ok, code)
        self._next()
