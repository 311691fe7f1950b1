"""The payload mode state machine (MODES in the dictionary): which transitions exist, and an
event for every one of them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from protocol.opals import MODES

MODE_IDS = {name: i for i, name in MODES.items()}

# Every legal transition; SAFE is reachable from everywhere (fault response).
TRANSITIONS: dict[str, frozenset[str]] = {
    "BOOT": frozenset({"IDLE"}),
    "IDLE": frozenset({"HEALTH_CHECK", "DOWNLINK", "POWER_OFF", "STOW"}),
    "HEALTH_CHECK": frozenset({"READY", "IDLE"}),
    "READY": frozenset({"POINTING", "HEALTH_CHECK", "IDLE", "DOWNLINK", "STOW"}),
    "POINTING": frozenset({"ACQUIRE", "STOW"}),
    "ACQUIRE": frozenset({"TRACK", "STOW"}),
    "TRACK": frozenset({"TRANSMIT", "ACQUIRE", "STOW"}),
    "TRANSMIT": frozenset({"TRACK", "ACQUIRE", "STOW"}),
    "STOW": frozenset({"READY", "IDLE"}),
    "DOWNLINK": frozenset({"IDLE"}),
    "SAFE": frozenset({"IDLE", "HEALTH_CHECK", "STOW", "POWER_OFF"}),
    "POWER_OFF": frozenset(),
}
PASS_MODES = frozenset({"POINTING", "ACQUIRE", "TRACK", "TRANSMIT"})


@dataclass
class ModeMachine:
    on_change: Callable[[str, str], None]
    mode: str = "BOOT"
    entered_at: float = 0.0
    history: list[tuple[str, str]] = field(default_factory=list)

    def can_go(self, new: str) -> bool:
        return new == "SAFE" or new in TRANSITIONS[self.mode]

    def go(self, new: str, now: float) -> bool:
        """Change mode if the transition is legal; False (and no change) otherwise."""
        if new == self.mode or not self.can_go(new):
            return False
        old, self.mode, self.entered_at = self.mode, new, now
        self.history.append((old, new))
        self.on_change(old, new)
        return True

    @property
    def mode_id(self) -> int:
        return MODE_IDS[self.mode]

    @property
    def in_pass(self) -> bool:
        return self.mode in PASS_MODES
