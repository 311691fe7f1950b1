"""One simulated payload: the world, the flight software on the simulated clock, the uplink
port, injected faults and the hazard checker, stepped together one control period at a time."""
from __future__ import annotations

import heapq
import itertools
import tempfile
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from flight.app import DownlinkFactory, FlightConfig, FlightSoftware
from protocol.codec import Codec, make_codec
from sim.devices import sim_hal
from sim.hazards import HazardChecker
from sim.pass_geometry import PassGeometry
from sim.world import World, WorldConfig


class UplinkPort:
    """The RF port flight sees: the real link (or none), plus packets the simulation injects
    (the plan a standalone run uploads, test commands, a spurious-command fault). Packets that
    come from ground (link or ``ground``) are shown to the hazard checker as ground intent."""

    def __init__(self, link=None, on_ground: Callable[[bytes], None] | None = None):
        self.link = link
        self.on_ground = on_ground
        self._inbox: deque[bytes] = deque()
        self.keep_sent = link is None           # tests read back what flight sent
        self.sent: list[bytes] = []

    def ground(self, packet: bytes) -> None:
        if self.on_ground:
            self.on_ground(packet)
        self._inbox.append(packet)

    def inject(self, packet: bytes) -> None:
        """Not from ground (a fault): the checker does not count it as intent."""
        self._inbox.append(packet)

    def stats(self):
        return self.link.stats() if self.link is not None else None

    def send(self, packet: bytes) -> bool:
        if self.keep_sent:
            self.sent.append(packet)
        return self.link.send(packet) if self.link is not None else True

    def recv(self, timeout: float = 0.0) -> list[bytes]:
        out = []
        if self.link is not None:
            for p in self.link.recv(0.0):
                if self.on_ground:
                    self.on_ground(p)
                out.append(p)
        while self._inbox:
            out.append(self._inbox.popleft())
        return out


@dataclass
class SimClock:
    """The flight computer's clock: follows world time unless a fault stalls it."""

    world: World
    stalled_at: float | None = None

    def __call__(self) -> float:
        return self.world.tai if self.stalled_at is None else self.stalled_at


@dataclass
class Simulation:
    geometry: PassGeometry
    start_tai: float
    seed: int = 0
    faults: tuple[str, ...] = ()
    world_config: WorldConfig = field(default_factory=WorldConfig)
    flight_config: FlightConfig = field(default_factory=FlightConfig)
    link: object | None = None
    store_dir: Path | None = None
    downlink_factory: DownlinkFactory | None = None
    fault_fallback_tai: float | None = None      # faults waiting for TRANSMIT start here at the latest
    codec: Codec = field(default_factory=make_codec)

    def __post_init__(self) -> None:
        self.world_config.control_hz = self.flight_config.control_hz
        self.world = World(self.geometry, self.start_tai, self.seed, self.world_config, self.flight_config.stow)
        self.checker = HazardChecker(self.codec, grace_s=2.05 / self.flight_config.control_hz)
        self.world.add_observer(self.checker.observe)
        self.port = UplinkPort(self.link, on_ground=lambda p: self.checker.note_uplink(self.world.tai, p))
        self.clock = SimClock(self.world)
        if self.store_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="opals-store-")
            self.store_dir = Path(self._tmp.name)
        self.hal = sim_hal(self.world)
        self.modulator = self.hal.modulator      # the optical link observer reads what flight modulated
        self.flight = FlightSoftware(self.hal, self.port, self.clock, self.store_dir,
                                     self.flight_config, self.codec, self.downlink_factory)
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._waiting_for_transmit: list[Callable[[], None]] = []
        self.active_faults: list[str] = []
        from sim.faults import CATALOGUE
        for name in self.faults:
            CATALOGUE[name].install(self)

    # ------------------------------------------------------------------ scheduling
    def at(self, tai: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (tai, next(self._order), fn))

    def on_transmit(self, fn: Callable[[], None], delay_s: float = 2.0) -> None:
        """Run ``fn`` ``delay_s`` after flight first enters TRANSMIT (or at the fallback time)."""
        done = [False]

        def fire() -> None:
            if not done[0]:
                done[0] = True
                fn()
        self._waiting_for_transmit.append(lambda: self.at(self.world.tai + delay_s, fire))
        if self.fault_fallback_tai is not None:
            self.at(self.fault_fallback_tai + delay_s, fire)

    def ground_at(self, tai: float, packet: bytes) -> None:
        self.at(tai, lambda: self.port.ground(packet))

    # ------------------------------------------------------------------ running
    def step(self) -> None:
        self.world.step()
        now = self.world.tai
        while self._timers and self._timers[0][0] <= now + 1e-9:
            heapq.heappop(self._timers)[2]()
        self.flight.step()
        if self._waiting_for_transmit and self.flight.mode == "TRANSMIT":
            for cb in self._waiting_for_transmit:
                cb()
            self._waiting_for_transmit = []

    def run_until(self, tai: float, pace: Callable[[float], None] | None = None,
                  stop: Callable[[], bool] | None = None) -> None:
        while self.world.tai < tai - 1e-9:
            self.step()
            if pace is not None:
                pace(self.world.tai)
            if stop is not None and stop():
                break
