"""CCSDS 131.0-B coding kernels (native/rs.c) against reedsolo and the pure-Python references."""
from __future__ import annotations

import numpy as np
import pytest
import reedsolo
from hypothesis import given, settings
from hypothesis import strategies as st

import native.coding_kernels as k
import native.coding_reference as ref
from protocol.tm_coding import DEPTHS

RSC = reedsolo.RSCodec(32, nsize=255, fcr=112, prim=0x187, generator=173, c_exp=8)


def _conv_codeword(msg: bytes, shorten: int = 0) -> bytes:
    block = k.rs_encode_blocks(msg, 1, shorten, dual=False)
    return block.tobytes()


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=223, max_size=223))
def test_parity_is_bit_exact_with_reedsolo(msg):
    assert _conv_codeword(msg) == bytes(RSC.encode(msg))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 200), st.data())
def test_shortened_code_equals_zero_padded_full_code(shorten, data):
    msg = data.draw(st.binary(min_size=223 - shorten, max_size=223 - shorten))
    full = bytes(RSC.encode(bytes(shorten) + msg))
    assert _conv_codeword(msg, shorten) == full[shorten:]


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(DEPTHS), st.integers(0, 40), st.data())
def test_interleaved_dual_basis_block_matches_python_reference(depth, shorten, data):
    frame = data.draw(st.binary(min_size=(223 - shorten) * depth, max_size=(223 - shorten) * depth))
    assert k.rs_encode_blocks(frame, depth, shorten, dual=True).tobytes() == ref.rs_encode_block(frame, depth, shorten)


def test_dual_basis_tables_match_reference_and_are_inverse():
    to_dual, to_conv = k.dual_tables()
    assert (to_dual, to_conv) == ref.dual_tables()
    assert sorted(to_dual) == list(range(256))
    assert all(to_conv[to_dual[v]] == v for v in range(256))
    assert to_dual[0] == 0


def test_randomizer_sequence():
    pn = k.pn_sequence(2 * 255)
    assert pn[:8] == bytes.fromhex("FF480EC09A0D70BC")
    assert pn[:255] == pn[255:510]          # period 255 octets (255 bits x 8)
    assert pn == ref.pn_sequence(510)
    buf = bytearray(range(256)) * 3
    k.randomize(buf)
    assert bytes(buf) == ref.randomize(bytes(range(256)) * 3)
    k.randomize(buf)
    assert bytes(buf) == bytes(range(256)) * 3


def _corrupt(cw: bytes, positions, values) -> bytearray:
    bad = bytearray(cw)
    for p, v in zip(positions, values):
        bad[p] ^= v
    return bad


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=223, max_size=223), st.data())
def test_corrects_every_pattern_up_to_16_symbol_errors(msg, data):
    cw = _conv_codeword(msg)
    n = data.draw(st.integers(0, 16))
    pos = data.draw(st.lists(st.integers(0, 254), min_size=n, max_size=n, unique=True))
    vals = data.draw(st.lists(st.integers(1, 255), min_size=n, max_size=n))
    bad = _corrupt(cw, pos, vals)
    oracle = ref.rs_decode_conventional(bad)
    assert k.rs_decode_conventional(bad) == n
    assert bytes(bad) == cw
    assert oracle is not None and oracle[0] == cw


@settings(max_examples=80, deadline=None)
@given(st.binary(min_size=223, max_size=223), st.data())
def test_beyond_16_errors_fails_or_lands_on_another_codeword(msg, data):
    """More than E=16 errors: the decoder either reports failure and leaves the word as received,
    or (rarely) corrects <= 16 symbols into a *different* valid codeword; the frame CRC is what
    catches the latter (tested in test_optical_link.py)."""
    cw = _conv_codeword(msg)
    n = data.draw(st.integers(17, 60))
    pos = data.draw(st.lists(st.integers(0, 254), min_size=n, max_size=n, unique=True))
    vals = data.draw(st.lists(st.integers(1, 255), min_size=n, max_size=n))
    bad = _corrupt(cw, pos, vals)
    received = bytes(bad)
    r = k.rs_decode_conventional(bad)
    if r < 0:
        assert bytes(bad) == received
    else:
        assert 0 < r <= 16 and bytes(bad) != cw
        assert sum(a != b for a, b in zip(bad, received)) == r
        assert all(s == 0 for s in ref.syndromes(bytes(bad)))


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(DEPTHS), st.data())
def test_block_decoder_corrects_each_interleaved_codeword(depth, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    nblocks = data.draw(st.integers(1, 9))
    frames = rng.integers(0, 256, size=nblocks * 223 * depth, dtype=np.uint8)
    blocks = k.rs_encode_blocks(frames, depth)
    clean = blocks.copy()
    want = rng.integers(0, 17, size=(nblocks, depth))
    for b in range(nblocks):
        for w in range(depth):
            pos = rng.choice(255, size=want[b, w], replace=False)
            blocks[b, pos * depth + w] ^= rng.integers(1, 256, size=want[b, w], dtype=np.uint8)
    got = k.rs_decode_blocks(blocks, depth)
    assert (got == want).all()
    assert (blocks == clean).all()


def test_block_decoder_flags_only_the_broken_codeword():
    depth = 5
    frames = np.random.default_rng(3).integers(0, 256, size=40 * 223 * depth, dtype=np.uint8)
    blocks = k.rs_encode_blocks(frames, depth)
    received = blocks.copy()
    received[7, np.arange(40) * depth + 2] ^= 0x55        # 40 errors in codeword 2 of block 7
    before = received.copy()
    got = k.rs_decode_blocks(received, depth)
    assert got[7, 2] == -1 and (np.delete(got.reshape(-1), 7 * depth + 2) == 0).all()
    assert (received == before).all()


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.data())
def test_extract_bytes_at_any_bit_offset(buf, data):
    nbits = 8 * len(buf)
    bitpos = data.draw(st.integers(0, nbits - 8)) if nbits >= 8 else 0
    n = data.draw(st.integers(0, (nbits - bitpos) // 8))
    assert k.extract_bytes(buf, bitpos, n) == ref.extract_bytes(buf, bitpos, n)


def test_crc16_matches_binascii():
    data = bytes(range(200))
    assert k.coding_crc16(data) == ref.crc16(data)
    assert k.coding_crc16(b"123456789") == 0x29B1


def test_python_face_rejects_out_of_range_input():
    with pytest.raises(ValueError):
        k.rs_encode_blocks(bytes(100), 1)
    with pytest.raises(ValueError):
        k.rs_decode_blocks(np.zeros(300, dtype=np.uint8), 1)
    with pytest.raises(ValueError):
        k.cadu_decode(bytes(300), np.array([400], dtype=np.uint64), 1)
    with pytest.raises(ValueError):
        k.extract_bytes(b"abc", 5, 3)
