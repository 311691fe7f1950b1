"""Frame sync, the coded frame stream, the channel model, the playout and the decoder CLI."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import native.coding_reference as ref
from flight.optical_playout import OpticalPlayout, standin_video, standin_video_size
from ground.optical.decoder import OpticalDecoder
from ground.optical.report import measure_coding_curves, pass_link_markdown, plot_curves
from protocol.tm_coding import ChannelCoding, StreamDecoder, encode_cadus
from protocol.tm_frames import FrameError, TmFrameFormat, build_frame, parse_frame
from sim.optical_channel import (BitStreamWriter, LinkParams, OpticalChannel, SyntheticSample,
                                 mean_received_power_w, run_frame_level)

CODING = ChannelCoding(depth=1)          # small CADUs keep the tests quick
FMT = TmFrameFormat(length=CODING.frame_len)
BIN = Path(sys.executable).parent


def _frames(n: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    return b"".join(build_frame(FMT, rng.bytes(FMT.data_field_len), i, i) for i in range(n))


def _shift(data: bytes, lead_bits: int) -> bytes:
    """Prefix ``lead_bits`` random-ish bits (no marker in them) so the stream is not byte aligned."""
    v = int.from_bytes(data, "big")
    total = 8 * len(data) + lead_bits
    pad = (-total) % 8
    return ((v << pad) | 0).to_bytes((total + pad) // 8, "big") if lead_bits == 0 else \
        (((0x5A5A5A5A5A5A5A5A & ((1 << lead_bits) - 1)) << (8 * len(data)) | v) << pad).to_bytes((total + pad) // 8, "big")


def _decode_all(stream: bytes, coding=CODING, chunk: int | None = None):
    dec = StreamDecoder(coding)
    chunk = chunk or len(stream) or 1
    batches = []
    for i in range(0, len(stream), chunk):
        batches += dec.feed(stream[i:i + chunk])
    batches += dec.feed(b"", final=True)
    return dec, batches


def _frames_out(batches):
    return [b.frames[i].tobytes() for b in batches for i in range(len(b.crc_ok)) if b.crc_ok[i]
            and (b.corrected[i] >= 0).all()]


def test_frame_build_parse_and_crc():
    data = bytes(range(256)) * 4
    data = data[:FMT.data_field_len]
    f = build_frame(FMT, data, 300, 7, first_header_pointer=0)
    tf = parse_frame(f, FMT)
    assert (tf.scid, tf.vcid, tf.mc_count, tf.vc_count, tf.first_header_pointer, tf.data) == (FMT.scid, 0, 44, 7, 0, data)
    bad = bytearray(f)
    bad[10] ^= 1
    with pytest.raises(FrameError) as e:
        parse_frame(bytes(bad), FMT)
    assert e.value.reason == "BAD_CRC"


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 63), st.integers(1, 5000), st.integers(0, 2))
def test_sync_at_any_bit_offset_any_chunking_marker_errors(lead, chunk, marker_errors):
    frames = _frames(4, seed=lead)
    cadus = encode_cadus(CODING, frames)
    for e in range(marker_errors):               # bit errors in the first marker
        cadus[0, e] ^= 0x80 >> (3 * e % 8)
    stream = _shift(cadus.tobytes(), lead)
    dec, batches = _decode_all(stream, chunk=chunk)
    offsets = np.concatenate([b.bit_offsets for b in batches])
    assert list(offsets) == [lead + i * CODING.cadu_bits for i in range(4)]
    assert b"".join(_frames_out(batches)) == frames
    assert dec.sync_stats().acquisitions == 1


def test_search_offsets_match_reference_marker_search():
    cadus = encode_cadus(CODING, _frames(3)).tobytes()
    stream = _shift(cadus, 13)
    found = [int(x) for b in _decode_all(stream)[1] for x in b.bit_offsets]
    assert found == [p for p in ref.marker_offsets(stream, 0)]


def test_flywheel_keeps_lock_over_a_destroyed_marker():
    frames = _frames(5)
    cadus = encode_cadus(CODING, frames)
    cadus[2, :4] ^= 0xFF                          # marker of frame 2 unrecognisable
    dec, batches = _decode_all(cadus.tobytes())
    flags = np.concatenate([b.flags for b in batches])
    assert list(flags) == [0, 0, 2, 0, 0]
    assert b"".join(_frames_out(batches)) == frames   # the flywheel frame still decodes
    assert dec.sync_stats().lock_losses == 0


@pytest.mark.parametrize("slip", [-3, -1, 1, 2])
def test_reacquires_after_a_bit_slip(slip):
    frames = _frames(6, seed=5)
    cadus = encode_cadus(CODING, frames)
    bits = np.unpackbits(cadus.reshape(-1)).astype(bool)
    cut = 2 * CODING.cadu_bits + CODING.cadu_bits // 2   # slip in the middle of frame 2
    bits = np.delete(bits, range(cut, cut - slip)) if slip < 0 else np.insert(bits, cut, [True] * slip)
    out = np.packbits(bits).tobytes()
    dec, batches = _decode_all(out)
    got = _frames_out(batches)
    want = [frames[i * FMT.length:(i + 1) * FMT.length] for i in range(6)]
    assert got == want[:2] + want[3:]             # only the frame with the slip inside is lost
    assert dec.sync_stats().slips == 1


def test_lock_loss_then_reacquisition_through_garbage():
    frames = _frames(6, seed=9)
    cadus = encode_cadus(CODING, frames).tobytes()
    garbage = np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    half = 3 * CODING.cadu_len
    stream = cadus[:half] + garbage + _shift(cadus[half:], 5)
    dec, batches = _decode_all(stream, chunk=777)
    assert _frames_out(batches) == [frames[i * FMT.length:(i + 1) * FMT.length] for i in range(6)]
    s = dec.sync_stats()
    assert s.acquisitions == 2 and s.lock_losses == 1


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=6000))
def test_garbage_never_crashes_and_yields_no_good_frames(junk):
    dec, batches = _decode_all(junk, chunk=1000)
    assert _frames_out(batches) == []


def test_miscorrections_beyond_capacity_are_caught_by_the_frame_crc():
    """Codewords with 17..40 symbol errors: every frame the chain delivers as good is the frame
    that was sent; the rest are reported failed (RS failure, or CRC failure after RS)."""
    rng = np.random.default_rng(11)
    n = 300
    frames = _frames(n, seed=11)
    cadus = encode_cadus(CODING, frames)
    for r in range(n):
        pos = rng.choice(255, size=int(rng.integers(17, 41)), replace=False)
        cadus[r, 4 + pos] ^= rng.integers(1, 256, size=len(pos), dtype=np.uint8)
    dec = OpticalDecoder(CODING)
    dec.feed(cadus.tobytes(), final=True)
    rep = dec.report
    assert rep.frames == n and rep.frames_good == 0 and rep.frames_failed == n


def test_playout_only_while_emitting_and_at_the_bit_rate():
    coding = ChannelCoding()
    video = standin_video(7, 10_000)
    assert video == standin_video(7, 10_000) and video != standin_video(8, 10_000)
    p = OpticalPlayout(video, coding)
    assert p.step(0.01, False).shape[0] == 0
    n = sum(p.step(0.001, True).shape[0] for _ in range(100))
    assert n == int(0.1 * 50e6 // coding.cadu_bits)
    assert p.step(1.0, False).shape[0] == 0
    assert p.loops >= 1 and p.frames_sent == n
    assert standin_video_size(coding) * 8 < 175e6 <= (standin_video_size(coding) + 1085) * 8 * 1279 / 1085


def test_channel_physics():
    p = LinkParams()
    base = mean_received_power_w(p, 800, 0, 30)
    assert mean_received_power_w(p, 800, 300, 30) < base
    assert mean_received_power_w(p, 1600, 0, 30) < base / 3
    assert mean_received_power_w(p, 800, 0, 10) < base
    ch = OpticalChannel(p, np.random.default_rng(0))
    f = ch.fades(20000, 2e-4, 0.3)
    assert abs(f.mean() - 1) < 0.1 and abs(np.var(f) - 0.3) < 0.1
    assert np.corrcoef(f[:-1], f[1:])[0, 1] > 0.8          # 0.2 ms steps, 2 ms correlation
    dark = SyntheticSample(0, 0.001, False, 0, 800, 30)
    assert ch.cadu_q(dark, 10, 10232).max() == 0.0
    from sim.optical_channel import q_factor

    # sky background adds noise power: 1 uW is 2.5x the reference, so Q falls by sqrt(3.5)
    assert q_factor(LinkParams(background_w=1e-6), base) == pytest.approx(q_factor(p, base) / 3.5 ** 0.5)


def test_frame_error_rate_grows_with_receiver_noise():
    samples = [SyntheticSample(i * 0.01, 0.01, True, 50, 900, 25) for i in range(30)]
    fers = [run_frame_level(samples, OpticalChannel(LinkParams(nep_w=nep), np.random.default_rng(1)), 10232, 5)["fer"]
            for nep in (5e-8, 2e-7, 4e-7)]
    assert fers[0] < fers[1] < fers[2]


def test_no_light_no_frames():
    coding = ChannelCoding()
    ch = OpticalChannel(rng=np.random.default_rng(2))
    chunks = ch.transmit(SyntheticSample(0, 0.002, False, 0, 800, 30), np.empty((0, coding.cadu_len), np.uint8))
    dec = OpticalDecoder(coding)
    dec.feed(b"".join(c.tobytes() for c in chunks), final=True)
    assert dec.report.frames_good == 0 and dec.file.file_size is None


def test_bit_writer_packs_odd_chunks():
    import io

    sink = io.BytesIO()
    w = BitStreamWriter(sink)
    w.write(np.array([1, 0, 1], dtype=bool))
    w.write(np.array([0xFF, 0x00], dtype=np.uint8))
    w.close()
    assert sink.getvalue() == bytes([0b10111111, 0b11100000, 0b00000000])


def test_curves_and_report_section(tmp_path):
    pts = measure_coding_curves([6.0, 12.0], ChannelCoding(), frames=30, seed=1)
    assert pts[0].channel_ber > pts[1].channel_ber
    assert pts[0].fer == 1.0 and pts[1].fer == 0.0 and pts[1].residual_ber == 0.0
    png = plot_curves(pts, tmp_path / "c.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    dec = OpticalDecoder()
    assert "frame error rate" in pass_link_markdown(dec.report)


def _run(*args, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, timeout=300, **kw)


def test_cli_recording_through_channel_recovers_the_file(tmp_path):
    """Real processes: the simulator records a pass through the fading channel with clock slips;
    the ground decoder recovers the file byte for byte."""
    rec, src, out = tmp_path / "rec.bin", tmp_path / "src.bin", tmp_path / "out.bin"
    r = _run(BIN / "opals-sim", "optical", "record", "-o", rec, "--seconds", "0.6", "--peak-elevation", "50",
             "--video-bytes", "60000", "--video-out", src, "--slip-probability", "0.002", "--seed", "4")
    assert r.returncode == 0, r.stderr
    r = _run(BIN / "opals-ground", "optical", "decode", rec, "-o", out, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert out.read_bytes() == src.read_bytes()
    import json

    rep = json.loads(r.stdout)
    assert rep["frames_good"] > 0 and rep["file_complete"] and rep["symbols_corrected"] > 0


def test_cli_decodes_from_stdin_pipe_and_reports_incomplete(tmp_path):
    src, out = tmp_path / "src.bin", tmp_path / "out.bin"
    gen = subprocess.Popen([str(BIN / "opals-sim"), "optical", "record", "-o", "-", "--seconds", "0.05",
                            "--video-bytes", "2000000", "--video-out", str(src), "--peak-elevation", "60",
                            "--emit-from", "0.01"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    r = subprocess.run([str(BIN / "opals-ground"), "optical", "decode", "-", "-o", str(out)], stdin=gen.stdout,
                       capture_output=True, timeout=300)
    gen.stdout.close()
    gen.wait(timeout=60)
    assert r.returncode == 1                          # 40 ms of light cannot carry 2 MB
    assert b"INCOMPLETE" in r.stdout
    got, want = out.read_bytes(), src.read_bytes()
    assert len(got) == len(want)
    seg = 1085
    # whatever was recovered is right: every non-empty segment equals the source
    recovered = [i for i in range(0, len(want), seg) if got[i:i + seg] == want[i:i + seg]]
    assert len(recovered) > 100


def test_cli_rejects_bad_depth(tmp_path):
    r = _run(BIN / "opals-ground", "optical", "decode", "-", "--depth", "7", input=b"")
    assert r.returncode == 2 and b"depth" in r.stderr


def test_playout_skip_matches_step():
    video = standin_video(3, 50_000)
    a, b = OpticalPlayout(video), OpticalPlayout(video)
    for dt, emitting in [(0.001, True), (0.003, True), (0.01, False), (0.002, True)] * 10:
        assert a.step(dt, emitting).shape[0] == b.skip(dt, emitting)
    assert (a.frames_sent, a.loops) == (b.frames_sent, b.loops) and a.loops > 0
    assert (a.next_cadus(2) == b.next_cadus(2)).all()


def test_world_observer_records_a_decodable_stream(tmp_path):
    import io

    from sim.optical_channel import synthetic_pass

    class World:
        observers: list = []

        def add_observer(self, fn):
            self.observers.append(fn)

    from sim.optical_link import attach_optical_link

    video = standin_video(5, 30_000)
    sink = io.BytesIO()
    world = World()
    obs = attach_optical_link(world, seed=3, sink=sink, video=video)
    counting = attach_optical_link(world, seed=3, video=video)
    for s in synthetic_pass(0.2, 0.005, peak_elevation_deg=45, emit_from_s=0.05, emit_until_s=0.17,
                            rng=np.random.default_rng(1)):
        for fn in world.observers:
            fn(s)
    obs.close()
    assert obs.frames == counting.frames > 0
    assert 0 <= counting.summary()["frame_error_rate"] < 1
    dec = OpticalDecoder()
    dec.feed(sink.getvalue(), final=True)
    assert dec.file.content() == video and dec.report.frames_good > 0


def test_measured_fer_agrees_with_bounded_distance_theory():
    """Monte-Carlo through the real chain vs the binomial tail: within 4 standard errors."""
    from ground.optical.report import measure_point, theoretical_fer

    p = measure_point(8.25, ChannelCoding(), 300, np.random.default_rng(7))
    want = theoretical_fer(p.channel_ber)
    assert 0.02 < want < 0.3
    assert abs(p.fer - want) < 4 * (want * (1 - want) / p.frames) ** 0.5


def test_simulated_pass_sends_frames_only_while_the_laser_emits():
    """Real flight software in the simulator owns the playout: it steps it in TRANSMIT while its
    photodiode senses emission and hands the frames to the modulator; the link puts on the beam
    exactly the emission time the world's physics reports, and nothing otherwise."""
    from sim.optical_link import attach_optical_link
    from sim.safety_campaign import short_pass

    links, events = [], []

    def setup(sim):
        links.append(attach_optical_link(sim.world, seed=1, modulator=sim.modulator))
        sim.flight.telemetry.event_sinks.append(events.append)

    res = short_pass(adversarial=False, setup=setup)
    link = links[0]
    emitting_s = res.emitting_steps * res.sim.world.dt
    assert emitting_s > 5.0
    assert link.emit_s == pytest.approx(emitting_s)
    expected = emitting_s * 50e6 / ChannelCoding().cadu_bits
    assert abs(link.frames - expected) <= 1 + 0.01 * expected
    assert link.summary()["frame_error_rate"] < 0.5
    flight = res.sim.flight
    assert flight.optical.playout.frames_sent == res.sim.modulator.frames_in == link.frames + link.frames_unlit
    playout_events = [e for e in events if e.name.startswith("OPTICAL_PLAYOUT")]
    assert [e.name for e in playout_events][:1] == ["OPTICAL_PLAYOUT_STARTED"]
    assert [e.name for e in playout_events][-1] == "OPTICAL_PLAYOUT_STOPPED"
    stopped = [e.args[0] for e in playout_events if e.name == "OPTICAL_PLAYOUT_STOPPED"]
    assert sum(stopped) == flight.optical.playout.frames_sent
    # Nothing on the beam outside emission: every frame that went out was sent while emitting.
    assert link.frames_unlit <= 2 * 50e6 * res.sim.world.dt / ChannelCoding().cadu_bits + 1


def test_a_dark_laser_transmits_nothing_whatever_the_modulator_holds():
    """The channel uses physical truth: frames handed to the modulator while the laser is dark
    never reach the ground (counted as unlit), and the recording holds only noise."""
    import io

    from sim.devices import SimModulator
    from sim.optical_channel import synthetic_pass
    from sim.optical_link import OpticalLinkObserver

    mod = SimModulator()
    sink = io.BytesIO()
    obs = OpticalLinkObserver(mod, OpticalChannel(LinkParams(), np.random.default_rng(0)), ChannelCoding(), sink)
    playout = OpticalPlayout(standin_video(2, 20_000))
    for s in synthetic_pass(0.05, 0.005, emit_from_s=1.0, rng=np.random.default_rng(0)):   # never emits
        mod.modulate(playout.step(s.dt, True))
        obs(s)
    obs.close()
    assert obs.frames == 0 and obs.frames_unlit == playout.frames_sent > 0
    dec = OpticalDecoder()
    dec.feed(sink.getvalue(), final=True)
    assert dec.report.frames_good == 0 and len(sink.getvalue()) > 0


def test_flight_transmitter_plays_only_in_transmit_while_emission_is_sensed():
    """Flight's gate: TRANSMIT and the photodiode both; events bracket each playout with the
    frames it played; bit-level and frame-level modulators see the same frame counts."""
    from flight.hal import FrameCounter
    from flight.optical_transmit import OpticalTransmitter

    dt = 0.01
    schedule = [(True, False)] * 5 + [(True, True)] * 30 + [(False, True)] * 3 + [(True, True)] * 7 + [(True, False)] * 2
    results = []
    for bit_level in (True, False):
        events: list[tuple] = []
        mod = FrameCounter(bit_level=bit_level)
        tx = OpticalTransmitter(mod, lambda name, *a: events.append((name, a)), lambda: 0.0, video_bytes=60_000)
        sent = [tx.cycle(dt, transmitting, sensed) for transmitting, sensed in schedule]
        assert sent[:5] == [0] * 5 and sum(sent[35:38]) == 0 and sum(sent[45:]) == 0
        per_cycle = dt * 50e6 / ChannelCoding().cadu_bits
        assert abs(sum(sent[5:35]) - 30 * per_cycle) <= 1 and abs(sum(sent[38:45]) - 7 * per_cycle) <= 1
        assert [e[0] for e in events] == ["OPTICAL_PLAYOUT_STARTED", "OPTICAL_PLAYOUT_STOPPED"] * 2
        assert [e[1][0] for e in events[1::2]] == [sum(sent[5:35]), sum(sent[38:45])]
        assert mod.frames == sum(sent) == tx.playout.frames_sent
        results.append((sent, tx.playout.loops))
    assert results[0] == results[1]
    assert mod.bits == 0 and results[0][1] > 0


def test_reassembly_any_order_duplicates_and_inconsistent_segments():
    from ground.optical.reassembly import FileReassembler

    src = bytes(range(256)) * 4                       # 1024 bytes in 100-byte segments
    segs = [(o, src[o:o + 100]) for o in range(0, len(src), 100)]
    r = FileReassembler()
    for o, d in reversed(segs[1:]):
        assert r.add(len(src), o, d)
    assert not r.complete
    assert not r.add(len(src), 50, b"x" * 100)       # overlaps stored segments at another offset
    assert not r.add(len(src) + 1, 0, segs[0][1])    # another file size
    assert not r.add(len(src), len(src), b"y")       # beyond the end
    assert not r.complete and r.rejected == 3
    assert r.add(len(src), 0, segs[0][1]) and r.add(len(src), 0, segs[0][1])
    assert r.complete and r.duplicates == 1 and r.content() == src
    assert r.stored() == [(o, len(d)) for o, d in segs]


@pytest.mark.parametrize("argv, says", [
    (["record", "-o", "{tmp}/r.bin", "--seconds", "0.05", "--depth", "7"], "interleaving depth"),
    (["record", "-o", "{tmp}/no-dir/r.bin", "--seconds", "0.05", "--video-bytes", "1000"], "No such file"),
    (["record", "-o", "{tmp}/r.bin", "--seconds", "-1"], "must be positive"),
    (["record", "-o", "{tmp}/r.bin", "--seconds", "0.05", "--video-bytes", "0"], "at least 1"),
    (["record", "-o", "{tmp}/r.bin", "--seconds", "0.05", "--symbol-errors", "300"], "0..255"),
    (["pass-fer", "--seconds", "0"], "must be positive"),
])
def test_sim_optical_cli_bad_input_is_a_clear_error(tmp_path, capsys, argv, says):
    from sim.cli import main as sim_main

    assert sim_main(["optical", *[a.replace("{tmp}", str(tmp_path)) for a in argv]]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
