"""The tracker reads the full frame while acquiring and only a 32x32 window once locked; losing
the beacon in the window goes back to the full frame."""
from __future__ import annotations

from flight.tracker import WINDOW
from sim.safety_campaign import short_pass


def test_full_frame_while_acquiring_window_once_locked():
    grabs: list[tuple[str, tuple[int, int]]] = []

    def spy(sim):
        cam, grab = sim.flight.hal.camera, sim.flight.hal.camera.grab

        def recording(window):
            frame = grab(window)
            grabs.append((sim.flight.tracker.state, frame.pixels.shape))
            return frame
        cam.grab = recording

    r = short_pass((), adversarial=False, setup=spy)
    full = (r.sim.world.camera.height, r.sim.world.camera.width)
    assert full[0] > WINDOW and full[1] > WINDOW
    acquiring = [shape for state, shape in grabs if state in ("ACQUIRING", "LOST")]
    locked = [shape for state, shape in grabs if state == "LOCKED"]
    assert acquiring and set(acquiring) == {full}
    assert len(locked) > 100 and set(locked) == {(WINDOW, WINDOW)}
