"""The world the flight software lives in: orbit, station, gimbal, laser, camera, faults.
Implements flight's HAL, so the same flight code runs here, on the bench, and in HIL."""
