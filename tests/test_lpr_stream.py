"""One vehicle, one passage, however slowly or out of order its frames were read (issue 14,
finding 1: under load the worker stored 9 of 65 passages two or three times, 1.5 to 2.5 s apart).

``CameraStream`` is what the worker's pipeline runs per camera (lpr/stream.py): frames admitted at
the camera's rate, read by a pool (two at once, finishing in either order), their results fed to the
tracker in stream order.  These tests hand it results the way a busy pool does.  No OCR: the reads
are given.
"""

from __future__ import annotations

from imtui.lpr.reader import PlateRead
from imtui.lpr.settings import RecognitionSettings
from imtui.lpr.stream import CameraStream
from imtui.lpr.tracker import PassageTracker, Recognition


def pr(text: str, confidence: float = 0.9) -> PlateRead:
    return PlateRead(text, "FR", confidence, (10, 10, 100, 30))


def ended(recognitions: list[Recognition]) -> list[tuple[str, int]]:
    """(plate, reads) of the passages that ended (a settled passage's announcement left out)."""
    return [(r.plate, r.reads) for r in recognitions if not r.open]


def test_results_finishing_out_of_order_make_one_passage() -> None:
    """Two frames of one camera are read at once and the later one may finish first.  Fed as they
    finished, the frames after the car had gone closed its passage, and the read of the frame still
    being read then made a second recognition of the same car."""
    stream = CameraStream(RecognitionSettings(max_fps=0.0, partial_seconds=1.0))
    out: list[Recognition] = []

    def read(t: float) -> int:
        number = stream.admit(t)
        assert number is not None
        return number

    def done(number: int, t: float, reads: list[PlateRead]) -> None:
        stream.release()
        out.extend(stream.result(number, t, reads, None))

    for t in (0.0, 0.5, 1.0):
        done(read(t), t, [pr("AB123CD")])
    late = read(2.2)  # the car's last frame, slow to read ...
    gone = read(4.0)
    done(gone, 4.0, [])  # ... while the frames after it come back first
    after = read(5.5)
    done(after, 5.5, [])
    done(late, 2.2, [pr("AB123CD")])
    out += stream.flush()
    assert ended(out) == [("AB123CD", 4)]


def test_frames_read_more_than_a_second_apart_keep_one_passage() -> None:
    """Under load a camera's frames are read 1.2 s apart (the pool skips the rest): the same plate
    read in consecutive processed frames is one vehicle, whatever the gap in stream time."""
    tracker = PassageTracker(partial_seconds=1.0)
    out: list[Recognition] = []
    for t, reads in ((10.0, [pr("AB123CD")]), (11.2, [pr("AB123CD")]), (12.4, []), (13.6, [pr("AB123CD")]),
                     (14.8, []), (16.0, [])):
        out += tracker.feed(t, reads)
    assert ended(out) == [("AB123CD", 3)]
    assert tracker.flush() == []


def test_the_same_text_twice_in_one_frame_is_one_plate() -> None:
    tracker = PassageTracker(partial_seconds=1.0)
    tracker.feed(0.0, [pr("AB123CD", 0.95), pr("AB123CD", 0.9)])  # two overlapping looks at one plate
    tracker.feed(0.25, [pr("AB123CD")])
    assert ended(tracker.flush()) == [("AB123CD", 2)]


def test_every_admitted_frame_comes_back_once_even_when_its_read_failed() -> None:
    stream = CameraStream(RecognitionSettings(max_fps=0.0), in_flight_max=2)
    first, second = stream.admit(0.0), stream.admit(0.25)
    assert stream.admit(0.5) is None and stream.skipped == 1  # two in flight: the third is skipped, not queued
    stream.release()
    stream.release()
    assert stream.result(second, 0.25, [pr("AB123CD")], None) == []  # waits for the first
    assert stream.processed == 0
    stream.result(first, 0.0, [], None)  # the read failed: no plates, but the order goes on
    assert stream.processed == 2
    assert ended(stream.flush()) == [("AB123CD", 1)]
