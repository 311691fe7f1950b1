"""After a pass, flight downlinks its engineering logs and camera frames through the real CFDP
sender (flight/file_downlink.py) wrapped in FILE_PDU telemetry; ground's CFDP receiver
(ground/files.py) answers through FilePduUplink packets. Every file arrives intact, matching
the size and CRC-32 flight announced in FILE_DIRECTORY."""
from __future__ import annotations

import zlib

from flight.app import FlightConfig
from ground.files import FileReceiver
from protocol.codec import make_codec
from sim.pass_geometry import FlyoverPass
from sim.pass_plan import plan_pass, timetag_packets
from sim.safety_campaign import SHORT_CAMERA, START_TAI
from sim.simulation import Simulation
from sim.world import WorldConfig


def test_pass_files_arrive_intact_over_cfdp_class_2(tmp_path):
    codec = make_codec()
    geometry = FlyoverPass(tca_tai=START_TAI + 122.0)
    cfg = FlightConfig(control_hz=20.0, stow=(62.0, 14.0))
    sim = Simulation(geometry, START_TAI, seed=2, flight_config=cfg, store_dir=tmp_path / "store",
                     world_config=WorldConfig(camera=dict(SHORT_CAMERA)), codec=codec)
    assert sim.flight.downlink is not None, "flight/file_downlink.py must be picked up by default"
    items, times = plan_pass(geometry, START_TAI, stow=cfg.stow, transmit_s=5.0, downlink_class=2)
    for p in timetag_packets(codec, items):
        sim.port.ground(p)
    up_seq = [0]

    def uplink(pdu: bytes) -> None:
        up_seq[0] = (up_seq[0] + 1) & 0x3FFF
        sim.port.ground(codec.encode_file_uplink(pdu, up_seq[0]))

    receiver = FileReceiver(uplink, lambda: sim.world.tai, tmp_path / "ground")
    directory: dict[int, dict] = {}
    events: list[str] = []
    seen = 0
    while sim.world.tai < times.end + 200.0:
        sim.step()
        receiver.tick()
        for raw in sim.port.sent[seen:]:
            d = codec.decode(raw)
            if d.name == "FILE_PDU":
                receiver.on_pdu(d.values["pdu"])
            elif d.name == "FILE_DIRECTORY":
                directory[d.values["file_id"]] = d.values
            elif d.name == "EVENT":
                events.append(codec.dictionary.event_by_id(d.values["event_id"]).name)
        seen = len(sim.port.sent)
        if sim.world.tai > times.end + 10 and sim.flight.mode == "IDLE" and not sim.flight.downlink.busy:
            break
    store = sim.flight.store.files
    assert len(store) >= 4 and set(directory) == set(store)
    assert events.count("DOWNLINK_COMPLETE") == len(store) and "DOWNLINK_FAILED" not in events
    assert len(receiver.received) == len(store)
    for got in receiver.received:
        assert got.ok, got
        entry = next(e for e in store.values() if e.path.name == got.name or got.name.endswith(e.path.name))
        assert (got.size, got.crc32) == (directory[entry.file_id]["size"], directory[entry.file_id]["crc32"])
        assert zlib.crc32(got.path.read_bytes()) & 0xFFFFFFFF == entry.crc32
