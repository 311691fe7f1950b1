"""On-off-keying detection law and bit-error injection, shared by the optical channel simulator
(sim/) and the ground's coding-performance curves (ground/optical/report.py).

SNR here is the electrical SNR Q^2 of a threshold OOK receiver: BER = erfc(Q / sqrt 2) / 2.
"""
from __future__ import annotations

import math

import numpy as np


def q_from_snr_db(snr_db: float | np.ndarray) -> np.ndarray:
    return np.sqrt(10.0 ** (np.asarray(snr_db, dtype=float) / 10.0))


def snr_db_from_q(q: float | np.ndarray) -> np.ndarray:
    q = np.maximum(np.asarray(q, dtype=float), 1e-12)
    return 20.0 * np.log10(q)


def ook_ber(q: float | np.ndarray) -> np.ndarray:
    """Bit error rate of OOK with Q factor q (0 -> 0.5: no light, coin flips)."""
    q = np.maximum(np.asarray(q, dtype=float), 0.0)
    return 0.5 * np.vectorize(math.erfc, otypes=[float])(q / math.sqrt(2.0))


def flip_bits(rows: np.ndarray, ber: float | np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flip each bit of each row of ``rows`` (n, L) uint8 in place with probability ber (scalar or
    one per row); returns the number of bits flipped per row. Exact: a binomial count per row and
    distinct uniform positions, which is the same law as independent per-bit draws."""
    n, length = rows.shape
    nbits = 8 * length
    ber = np.broadcast_to(np.clip(np.asarray(ber, dtype=float), 0.0, 1.0), (n,))
    counts = rng.binomial(nbits, ber)
    total = int(counts.sum())
    if total:
        # distinct (row, bit) keys: draw, drop duplicates, redraw the shortfall row by row
        rows_idx = np.repeat(np.arange(n, dtype=np.int64), counts)
        keys = np.unique(rows_idx * nbits + rng.integers(0, nbits, size=total))
        while len(keys) < total:
            have = np.bincount(keys // nbits, minlength=n)
            short = counts - have
            extra_rows = np.repeat(np.arange(n, dtype=np.int64), short)
            keys = np.unique(np.concatenate([keys, extra_rows * nbits + rng.integers(0, nbits, size=len(extra_rows))]))
        flat = rows.reshape(-1)
        r, pos = keys // nbits, keys % nbits
        np.bitwise_xor.at(flat, r * length + (pos >> 3), (0x80 >> (pos & 7)).astype(np.uint8))
    return counts
