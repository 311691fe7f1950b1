"""CCSDS CFDP (727.0-B) set-up both ends of the file downlink share: entity IDs, PDU size,
timers and the cfdp-py configuration objects built from them.

The PDUs themselves are built and parsed by cfdp-py/spacepackets; this module holds the mission
constants and the small adapters cfdp-py asks its user for, so flight (source) and ground
(destination) never define them twice.
"""
from __future__ import annotations

from dataclasses import dataclass

from cfdppy.mib import CheckTimerProvider, DefaultFaultHandlerBase, EntityType, RemoteEntityConfig
import copy

from spacepackets.cfdp import ChecksumType, ConditionCode, Direction, TransmissionMode
from spacepackets.cfdp.defs import TransactionId
from spacepackets.cfdp.pdu import AckPdu, DirectiveType
from spacepackets.cfdp.pdu.ack import TransactionStatus
from spacepackets.countdown import Countdown
from spacepackets.util import UnsignedByteField

PAYLOAD_ENTITY_ID = 1          # the flight file store: CFDP source of every downlink
GROUND_ENTITY_ID = 2           # the ground station: CFDP destination
ENTITY_ID_BYTES = 2
TRANSACTION_SEQ_BITS = 16
MAX_PDU_LEN = 1024             # fits a FILE_PDU packet with room to spare on any of our links
MAX_FILE_SEGMENT_LEN = 900


@dataclass(frozen=True)
class CfdpTimers:
    """Seconds. cfdp-py's own timers (positive ACK, NAK, check) run on wall-clock time; the
    inactivity timers of our wrappers run on the injected clock."""

    positive_ack_interval: float = 1.0
    positive_ack_limit: int = 60        # a minute of silence tolerated: spans a loss-of-signal gap
    check_interval: float = 1.0
    check_limit: int = 10
    inactivity: float = 120.0
    pdus_per_tick: int = 4            # matches flight telemetry FILE_PDU pacing (4 per cycle)


def entity(value: int) -> UnsignedByteField:
    return UnsignedByteField(value, ENTITY_ID_BYTES)


def remote_config(remote_id: int, timers: CfdpTimers = CfdpTimers(),
                  mode: TransmissionMode = TransmissionMode.ACKNOWLEDGED) -> RemoteEntityConfig:
    return RemoteEntityConfig(
        entity_id=entity(remote_id), max_file_segment_len=MAX_FILE_SEGMENT_LEN, max_packet_len=MAX_PDU_LEN,
        closure_requested=mode == TransmissionMode.ACKNOWLEDGED, crc_on_transmission=False,
        default_transmission_mode=mode, crc_type=ChecksumType.CRC_32,
        positive_ack_timer_interval_seconds=timers.positive_ack_interval,
        positive_ack_timer_expiration_limit=timers.positive_ack_limit,
        check_limit=timers.check_limit, nak_timer_interval_seconds=timers.positive_ack_interval,
        nak_timer_expiration_limit=timers.positive_ack_limit)


class RecordingFaults(DefaultFaultHandlerBase):
    """Keeps the last fault declared, so a wrapper can report why a transaction ended."""

    def __init__(self) -> None:
        super().__init__()
        self.last: ConditionCode | None = None

    def notice_of_suspension_cb(self, transaction_id, cond, progress) -> None:
        self.last = cond

    def notice_of_cancellation_cb(self, transaction_id, cond, progress) -> None:
        self.last = cond

    def abandoned_cb(self, transaction_id, cond, progress) -> None:
        self.last = cond

    def ignore_cb(self, transaction_id, cond, progress) -> None:
        pass


class FixedCheckTimers(CheckTimerProvider):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def provide_check_timer(self, local_entity_id, remote_entity_id, entity_type: EntityType) -> Countdown:
        return Countdown.from_seconds(self.seconds)


def transaction_key(tid: TransactionId) -> tuple[int, int]:
    return int(tid.source_id.value), int(tid.seq_num.value)


def pdu_transaction_key(packet) -> tuple[int, int]:
    return int(packet.source_entity_id.value), int(packet.transaction_seq_num.value)


def ack_for(packet, acked: DirectiveType, condition: ConditionCode, status: TransactionStatus,
            direction: Direction) -> AckPdu:
    """An ACK PDU answering ``packet`` (CCSDS 727.0-B-5 4.7: every EOF and Finished is ACKed)."""
    conf = copy.copy(packet.pdu_header.pdu_conf)
    conf.direction = direction
    return AckPdu(conf, acked, condition, status)
