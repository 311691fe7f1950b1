"""Decode a packet file in fixed-size chunks and report packets and peak RSS as JSON.

Run as its own process by bench_packets.py, so the peak RSS is this decoder's alone: the file
never has to fit in memory (a truncated packet at a chunk's end is carried into the next read).
"""
from __future__ import annotations

import json
import resource
import sys

from protocol.dtypes import make_batch_decoder
from protocol.opals import DICTIONARY

CHUNK = 8 << 20


def stream_decode(path: str) -> dict:
    dec = make_batch_decoder(DICTIONARY, capacity=CHUNK // 14 + 1)
    buf = bytearray(CHUNK + 65542)
    view = memoryview(buf)
    held = packets = 0
    uptime_sum = 0
    with open(path, "rb", buffering=0) as fh:
        while True:
            n = fh.readinto(view[held:held + CHUNK])
            if not n:
                break
            end = held + n
            arrays, used = dec.decode(view[:end])
            for apid, arr in arrays.items():
                packets += len(arr)
                if "uptime" in arr.dtype.names:
                    uptime_sum += int(arr["uptime"].sum(dtype="u8"))
            held = end - used
            view[:held] = view[used:end]
    st = dec.stats()
    return {"packets": packets, "crc_failures": st.crc_failures, "uptime_sum": uptime_sum,
            "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """This process image's peak RSS (VmHWM). Not ru_maxrss: Linux carries that across exec, so a
    child forked from a big parent would report the parent's size."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    print(json.dumps(stream_decode(sys.argv[1])))
