"""The application log: ``<data dir>/imtui.log``, archived at 10 MB into ``<data dir>/archive/``.

Each archived file is named after the moment it was rotated, so archives never overwrite each
other (manual 003 keeps a system log the same way).  Textual owns the terminal, so nothing is
logged to stderr while the TUI runs.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from datetime import UTC, datetime
from pathlib import Path

from imtui.config import data_dir

MAX_BYTES = 10 * 1024 * 1024
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ArchivingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler whose rotated files go to ``archive/<name>-YYYYmmddTHHMMSSffffffZ.log``
    (``imtui-…`` for the application log, ``worker-…`` for a worker's)."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.archive = path.parent / "archive"
        super().__init__(path, maxBytes=max_bytes, backupCount=1, encoding="utf-8", delay=True)
        self.rotator = self._archive

    def _archive(self, source: str, _dest: str) -> None:
        self.archive.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        if os.path.exists(source):
            os.replace(source, self.archive / f"{Path(source).stem}-{stamp}.log")

    def doRollover(self) -> None:  # noqa: N802 - logging's name
        if self.stream:
            self.stream.close()
            self.stream = None  # type: ignore[assignment]
        self.rotate(self.baseFilename, "")
        if not self.delay:
            self.stream = self._open()


def setup_logging(path: Path | None = None, level: int = logging.INFO) -> ArchivingFileHandler:
    """Send imtui's log records (and warnings of the libraries) to the log file."""
    handler = ArchivingFileHandler(path or data_dir() / "imtui.log")
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, ArchivingFileHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(min(root.level or level, level) if root.level else level)
    return handler
