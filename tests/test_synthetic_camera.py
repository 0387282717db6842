"""The synthetic camera: deterministic frames whose content is known, checked with real OpenCV."""

from __future__ import annotations

import cv2
import numpy as np

from imtui.engine.video.synthetic import SyntheticCamera


def test_source_string_and_frames() -> None:
    cam = SyntheticCamera.from_source("synthetic:?size=320x240&fps=5&seed=7&plates=AB123CD,XY987ZT&every=10&cross=4")
    assert (cam.width, cam.height, cam.fps, cam.plates) == (320, 240, 5.0, ["AB123CD", "XY987ZT"])
    ok, frame = cam.read()
    assert ok and frame.shape == (240, 320, 3) and frame.dtype == np.uint8
    again, _ = cam.frame(0)
    assert np.array_equal(frame, again)  # a pure function of the index
    assert cam.vehicle(0).plate == "AB123CD" and cam.vehicle(1).plate == "XY987ZT"


def test_truth_matches_what_is_drawn() -> None:
    cam = SyntheticCamera(width=320, height=240, fps=4, every=10, cross=4, plates=["AB123CD"])
    v = cam.vehicle(0)  # enters at 2.5 s, leaves at 6.5 s
    assert (v.enters, v.leaves) == (2.5, 6.5)
    empty, _ = cam.frame(0)
    mid_index = int((v.enters + v.leaves) / 2 * cam.fps)
    busy, plates = cam.frame(mid_index)
    assert not cam.moving(0) and cam.moving(mid_index / cam.fps)
    assert [p.plate for p in plates] == ["AB123CD"]
    x, y, w, h = plates[0].box
    patch = busy[y:y + h, x:x + w]
    assert (patch > 200).mean() > 0.5 and (patch < 60).mean() > 0.02  # a white plate with dark glyphs
    # the picture changes only where the vehicle is (overlay aside)
    diff = cv2.absdiff(busy, empty).max(axis=2)
    assert diff[y:y + h, x:x + w].mean() > 50 and diff[40:, :100].max() == 0  # the car starts at x=106; rows 0-39: the clock


def test_background_subtraction_sees_the_vehicles() -> None:
    """Real OpenCV MOG2 on the frames: foreground appears while (and only while) a vehicle is in view."""
    cam = SyntheticCamera(width=320, height=240, fps=4, every=12, cross=5, seed=3)
    mog = cv2.createBackgroundSubtractorMOG2(history=40, varThreshold=25, detectShadows=False)
    seen = []
    for i in range(int(40 * cam.fps)):
        frame, _ = cam.frame(i)
        mask = mog.apply(frame[20:])  # below the timestamp overlay
        seen.append((i / cam.fps, (mask > 0).mean() > 0.01))
    truth = [(t, cam.moving(t)) for t, _ in seen]
    settled = [(s, t) for (ts, s), (_, t) in zip(seen, truth, strict=True) if ts > 3]
    agreement = sum(s == t for s, t in settled) / len(settled)
    assert agreement > 0.9
    assert cam.motion_periods(40) == [(v.enters, min(v.leaves, 40)) for v in map(cam.vehicle, range(4))]
