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


DENSE_BER = 0.02  # above this, draw every bit; below, draw error positions


def flip_bits(rows: np.ndarray, ber: float | np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flip each bit of each row of ``rows`` (n, L) uint8 in place with probability ber (scalar or
    one per row); returns the number of bits flipped per row. Exact either way: a Bernoulli draw
    per bit for noisy rows, or a binomial count per row and distinct uniform positions for clean
    ones (the same law)."""
    n, length = rows.shape
    nbits = 8 * length
    ber = np.broadcast_to(np.clip(np.asarray(ber, dtype=float), 0.0, 1.0), (n,))
    counts = np.zeros(n, dtype=np.int64)
    dense = np.nonzero(ber >= DENSE_BER)[0]
    if len(dense):
        mask = rng.random((len(dense), nbits)) < ber[dense, None]
        counts[dense] = mask.sum(axis=1)
        rows[dense] ^= np.packbits(mask, axis=1)
    sparse = np.nonzero(ber < DENSE_BER)[0]
    if len(sparse):
        c = rng.binomial(nbits, ber[sparse])
        counts[sparse] = c
        total = int(c.sum())
        if total:
            owner = np.repeat(sparse.astype(np.int64), c)
            keys = _sorted_unique(owner * nbits + rng.integers(0, nbits, size=total))
            while len(keys) < total:   # redraw positions that collided within a row
                short = counts[sparse] - np.bincount(keys // nbits, minlength=n)[sparse]
                extra = np.repeat(sparse.astype(np.int64), short)
                keys = _sorted_unique(np.concatenate([keys, extra * nbits + rng.integers(0, nbits, size=len(extra))]))
            flat = rows.reshape(-1)
            r, pos = keys // nbits, keys % nbits
            np.bitwise_xor.at(flat, r * length + (pos >> 3), (0x80 >> (pos & 7)).astype(np.uint8))
    return counts


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    keys = np.sort(keys)
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if len(keys) else keys
