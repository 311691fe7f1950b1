"""Optical downlink decoder: bits -> frame sync -> de-randomize -> RS -> CRC -> packets -> file.

Streaming with bounded memory: feed it chunks of the recording; the coding arithmetic and frame
synchronisation are native (native/rs.c through protocol/tm_coding.py); Python sees each good
frame once, to unpack its OPTICAL_SEGMENT packet through the dictionary codec.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import BinaryIO

import numpy as np

from ground.optical.reassembly import FileReassembler
from protocol.codec import Codec, PacketError
from protocol.opals import DICTIONARY
from protocol.tm_coding import ChannelCoding, DecodedBatch, StreamDecoder
from protocol.tm_frames import FrameError, TmFrameFormat, parse_frame

SEGMENT_APID = DICTIONARY.telemetry["OPTICAL_SEGMENT"].apid


@dataclass
class DecodeReport:
    bytes_in: int = 0
    frames: int = 0                 # CADUs located (marker, slip re-alignment or flywheel)
    frames_good: int = 0            # every codeword decoded and the frame CRC holds
    frames_corrected: int = 0       # good frames that needed at least one symbol corrected
    frames_failed: int = 0          # an uncorrectable codeword, or CRC failure after decoding
    crc_after_rs_failures: int = 0  # RS "succeeded" but the CRC caught a miscorrection
    codewords: int = 0
    codewords_failed: int = 0
    symbols_corrected: int = 0
    frames_missing: int = 0         # gaps in the virtual-channel frame count between good frames
    bad_frame_headers: int = 0
    bad_packets: int = 0
    acquisitions: int = 0
    lock_losses: int = 0
    slips: int = 0
    flywheel_frames: int = 0
    file_size: int | None = None
    bytes_recovered: int = 0
    file_complete: bool = False
    segments_duplicate: int = 0

    @property
    def frame_error_rate(self) -> float:
        return self.frames_failed / self.frames if self.frames else 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["frame_error_rate"] = self.frame_error_rate
        return d


class OpticalDecoder:
    def __init__(self, coding: ChannelCoding | None = None, frame_format: TmFrameFormat | None = None):
        self.coding = coding or ChannelCoding()
        self.frame_format = frame_format or TmFrameFormat(length=self.coding.frame_len)
        self._stream = StreamDecoder(self.coding)
        self._codec = Codec(DICTIONARY)
        self.file = FileReassembler()
        self.report = DecodeReport()
        self._last_vc: int | None = None

    def feed(self, data: bytes | bytearray | memoryview, final: bool = False) -> None:
        for batch in self._stream.feed(data, final):
            self._take(batch)
        r = self.report
        r.bytes_in = self._stream.bytes_in
        s = self._stream.sync_stats()
        r.acquisitions, r.lock_losses, r.slips, r.flywheel_frames = (s.acquisitions, s.lock_losses, s.slips,
                                                                      s.flywheel_frames)
        r.file_size = self.file.file_size
        r.bytes_recovered = self.file.bytes_covered
        r.file_complete = self.file.complete
        r.segments_duplicate = self.file.duplicates

    def _take(self, b: DecodedBatch) -> None:
        r = self.report
        n = len(b.crc_ok)
        rs_ok = (b.corrected >= 0).all(axis=1)
        good = rs_ok & b.crc_ok
        r.frames += n
        r.codewords += b.corrected.size
        r.codewords_failed += int((b.corrected < 0).sum())
        r.frames_good += int(good.sum())
        r.frames_failed += int(n - good.sum())
        r.crc_after_rs_failures += int((rs_ok & ~b.crc_ok).sum())
        corr = np.where(b.corrected > 0, b.corrected, 0)
        r.symbols_corrected += int(corr[good].sum())
        r.frames_corrected += int((corr[good].sum(axis=1) > 0).sum())
        for i in np.nonzero(good)[0]:
            self._segment(b.frames[i].tobytes())

    def _segment(self, frame: bytes) -> None:
        r = self.report
        try:
            tf = parse_frame(frame, self.frame_format)
        except FrameError:
            r.bad_frame_headers += 1
            return
        if self._last_vc is not None:
            r.frames_missing += (tf.vc_count - self._last_vc - 1) % 256
        self._last_vc = tf.vc_count
        try:
            pkt = self._codec.decode_tm(tf.data)
        except PacketError:
            r.bad_packets += 1
            return
        if pkt.apid != SEGMENT_APID:
            r.bad_packets += 1
            return
        v = pkt.values
        if not self.file.add(v["file_size"], v["offset"], v["chunk"]):
            r.bad_packets += 1


def decode_stream(src: BinaryIO, coding: ChannelCoding | None = None, chunk: int = 1 << 20) -> OpticalDecoder:
    """Decode a whole recording from a binary file object, chunk by chunk."""
    dec = OpticalDecoder(coding)
    while True:
        data = src.read(chunk)
        if not data:
            break
        dec.feed(data)
    dec.feed(b"", final=True)
    return dec
