"""The application log file is archived when it reaches its size limit."""

from __future__ import annotations

import logging

from imtui.applog import ArchivingFileHandler


def test_log_is_archived_at_the_size_limit(tmp_path) -> None:  # noqa: ANN001
    handler = ArchivingFileHandler(tmp_path / "imtui.log", max_bytes=2_000)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("imtui.test.applog")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        for i in range(100):
            log.info("line %03d %s", i, "x" * 50)
    finally:
        log.removeHandler(handler)
        handler.close()
    archived = sorted((tmp_path / "archive").glob("imtui-*.log"))
    assert len(archived) >= 2
    assert all(p.stat().st_size <= 2_100 for p in archived)
    text = "".join(p.read_text() for p in archived) + (tmp_path / "imtui.log").read_text()
    assert [f"line {i:03d}" in text for i in range(100)] == [True] * 100  # nothing lost
    assert (tmp_path / "imtui.log").stat().st_size <= 2_100
