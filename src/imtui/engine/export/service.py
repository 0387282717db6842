"""The export list and the export itself.

"Send for export" copies every sequence of a project onto the operator's export list (persisted,
per user) and logs "sent for export".  An export writes, for the chosen items, one clip per
sequence (MP4 or AVI) or an evidence package (clips, one PDF report per project, manifest,
SHA256SUMS, README), into a hidden staging folder beside the target that is renamed into place
only when everything is written: a cancelled or failed export leaves nothing behind.  The
exported projects' activity logs get "exported" with the manifest's SHA-256.

Permission: "export" at manage level (manual 003 makes exporting a right of its own).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from importlib import metadata
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from imtui.engine import activity as act
from imtui.engine.base import Service
from imtui.engine.errors import InvalidInput, ServiceError, StaleError
from imtui.engine.export import package as pkg
from imtui.engine.export.clips import FORMATS, Cancelled, ClipInfo, write_clip
from imtui.engine.export.names import inside, safe_name
from imtui.engine.incidents import IncidentService, load_sequences
from imtui.engine.permissions import Actor, Feature, Level, require
from imtui.engine.report.model import ReportModel
from imtui.engine.report.service import ReportService, render_report
from imtui.engine.times import utcnow
from imtui.engine.video.recordings import Clip, RecordingService
from imtui.i18n import _
from imtui.storage.db import Database
from imtui.storage.models import Camera, ExportItem

EXPORT_FORMATS = ("mp4", "avi", "package")
REPORT_WEIGHT = 40  # progress units of one report (about the time of 40 frames)


@dataclass(frozen=True)
class ExportItemView:
    id: int
    incident_id: int | None
    camera_id: int
    camera_name: str
    start_time: datetime
    end_time: datetime


@dataclass(frozen=True)
class ExportOptions:
    format: str = "package"  # mp4 | avi | package (AVI clips inside)
    burn_timestamp: bool = False
    zip: bool = False  # package only: one .zip instead of a folder
    name: str = ""  # typed by the operator; sanitised; default incident-<id>-<time>
    show_user_names: bool = False  # in the package's reports


@dataclass(frozen=True)
class ExportProgress:
    done: int
    total: int
    elapsed: float  # seconds
    label: str

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def remaining(self) -> float | None:
        """Seconds left at the pace so far (None until there is a pace)."""
        if self.done <= 0 or self.elapsed <= 0:
            return None
        return self.elapsed * (self.total - self.done) / self.done


@dataclass(frozen=True)
class ExportResult:
    path: Path  # the folder or .zip written
    clips: tuple[ClipInfo, ...]
    reports: tuple[Path, ...]
    manifest_sha256: str
    seconds_of_video: float
    elapsed: float
    missing: tuple[str, ...] = ()

    @property
    def frames(self) -> int:
        return sum(c.frames for c in self.clips)

    @property
    def message(self) -> str:
        text = _("Exported {n} sequences to {path}.").format(n=len(self.clips), path=self.path)
        if self.missing:
            text += " " + _("Not exported: {parts}.").format(parts="; ".join(self.missing))
        return text


@dataclass
class _Job:
    """Everything the blocking part needs, gathered on the event loop first."""

    items: list[tuple[int, ExportItemView, Clip]]
    reports: dict[int, ReportModel]
    folder: Path
    final_name: str
    options: ExportOptions
    manifest: dict[str, Any]
    tz: tzinfo
    cancel: threading.Event
    report_paths: list[Path] = field(default_factory=list)


class ExportService(Service):
    def __init__(self, db: Database, recordings: RecordingService, reports: ReportService, tz: tzinfo) -> None:
        super().__init__(db)
        self.recordings = recordings
        self.reports = reports
        self.tz = tz

    # -- the export list -----------------------------------------------------------------------------
    async def send_for_export(self, actor: Actor, incident_id: int) -> int:
        """Put every sequence of the project on the actor's export list; returns how many were not
        already there."""
        require(actor, Feature.EXPORT, Level.MANAGE)
        require(actor, Feature.SEQUENCES, Level.VIEW)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.write() as s:
            if not await IncidentService._exists(s, incident_id):
                raise StaleError()
            sequences = await load_sequences(s, incident_id)
            if not sequences:
                raise InvalidInput("sequences", _("Send for export: this incident project has no sequences; add some first."))
            e = ExportItem.__table__
            now = utcnow()
            # Sending the same project twice does not list its sequences twice.
            listed = {(r.camera_id, _iso(r.start_time), _iso(r.end_time)) for r in await s.execute(
                sa.select(e.c.camera_id, e.c.start_time, e.c.end_time).where(e.c.user == actor.name))}
            new = [q for q in sequences if (q.camera_id, _iso(q.start_time), _iso(q.end_time)) not in listed]
            if new:
                await s.execute(sa.insert(e), [dict(user=actor.name, incident_id=incident_id, camera_id=q.camera_id,
                                                    start_time=q.start_time, end_time=q.end_time, added_at=now)
                                               for q in new])
            IncidentService._log(s, incident_id, actor, act.SENT_FOR_EXPORT,
                                 f"{len(sequences)} sequence(s) on {actor.name}'s export list ({len(new)} new)")
            return len(new)

    async def list(self, actor: Actor) -> list[ExportItemView]:
        require(actor, Feature.EXPORT, Level.MANAGE)
        e, c = ExportItem.__table__, Camera.__table__
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            rows = await s.execute(sa.select(e, c.c.name.label("camera_name")).join(c, c.c.id == e.c.camera_id)
                                   .where(e.c.user == actor.name).order_by(e.c.id))
            return [ExportItemView(r.id, r.incident_id, r.camera_id, r.camera_name, r.start_time, r.end_time)
                    for r in rows]

    async def remove(self, actor: Actor, item_ids: list[int]) -> None:
        require(actor, Feature.EXPORT, Level.MANAGE)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.write() as s:
            e = ExportItem.__table__
            await s.execute(sa.delete(e).where(e.c.user == actor.name, e.c.id.in_(item_ids)))

    async def project_items(self, actor: Actor, incident_id: int) -> list[ExportItemView]:
        """A project's sequences as export items (the CLI exports a project without the list)."""
        require(actor, Feature.EXPORT, Level.MANAGE)
        require(actor, Feature.SEQUENCES, Level.VIEW)
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.read() as s:
            if not await IncidentService._exists(s, incident_id):
                raise StaleError()
            return [ExportItemView(0, incident_id, q.camera_id, q.camera_name, q.start_time, q.end_time)
                    for q in await load_sequences(s, incident_id)]

    # -- exporting -----------------------------------------------------------------------------------
    async def export(self, actor: Actor, items: list[ExportItemView], folder: Path, options: ExportOptions,
                     *, progress: Callable[[ExportProgress], None] | None = None,
                     cancel: threading.Event | None = None) -> ExportResult:
        """Write ``items`` into ``folder`` as ``options`` says.  ``progress`` is called on the event
        loop; setting ``cancel`` (or cancelling the awaiting task) stops it and removes its files.
        Raises Cancelled when cancelled."""
        require(actor, Feature.EXPORT, Level.MANAGE)
        if options.format not in EXPORT_FORMATS:
            raise InvalidInput("format", _("Format: choose mp4, avi or package."))
        if not items:
            raise InvalidInput("items", _("Export list: it is empty; send an incident project for export first."))
        cancel = cancel or threading.Event()
        missing: list[str] = []
        job_items: list[tuple[int, ExportItemView, Clip]] = []
        for n, item in enumerate(items, 1):
            clip = await self.recordings.clip(actor, item.camera_id, item.start_time, item.end_time)
            if clip.frames == 0:
                missing.append(_("sequence {n} ({camera}, {start}): no recorded video can be read").format(
                    n=n, camera=item.camera_name, start=_local(item.start_time, self.tz)))
            else:
                job_items.append((n, item, clip))
        if not job_items:
            raise ServiceError(_("Cannot export: none of the sequences has recorded video that can be read."))
        reports: dict[int, ReportModel] = {}
        if options.format == "package":
            for incident_id in sorted({i.incident_id for i in items if i.incident_id}):
                try:
                    reports[incident_id] = await self.reports.build(actor, incident_id,
                                                                    show_user_names=options.show_user_names)
                except ServiceError:
                    missing.append(_("report of incident project {id}: cannot generate report").format(id=incident_id))
        ids = sorted({i.incident_id for i in items if i.incident_id})
        now = utcnow()
        default = (f"incident-{ids[0]}" if len(ids) == 1 else f"export-{safe_name(actor.name, 'user')}") + \
            now.astimezone(self.tz).strftime("-%Y%m%d-%H%M%S")
        name = safe_name(options.name, default) if options.name.strip() else default
        if options.format == "package" and options.zip:
            name += ".zip"
        final = _free_name(folder, name)
        inside(folder, final)  # raises if the name would leave the folder
        job = _Job(job_items, reports, folder, final, options, _manifest_head(actor, ids, now, self.tz), self.tz, cancel)

        loop = asyncio.get_running_loop()
        started = time.monotonic()
        total = sum(c.frames for _n, _i, c in job_items) + REPORT_WEIGHT * len(reports)

        def report(done: int, label: str) -> None:
            if progress is not None:
                p = ExportProgress(done, total, time.monotonic() - started, label)
                loop.call_soon_threadsafe(progress, p)

        future = loop.run_in_executor(None, _produce, job, report)
        try:
            clips, manifest_hash = await asyncio.shield(future)
        except asyncio.CancelledError:
            cancel.set()
            await asyncio.wait([future])  # let it remove its staging files before giving up
            if not future.cancelled():
                future.exception()  # retrieved: it is the Cancelled we asked for (or a failure after it)
            raise
        path = folder / final
        details = f"{options.format} {final}: {len(clips)} clip(s)" + (
            f", manifest sha256 {manifest_hash}" if manifest_hash else "")
        async with self._guard(_("Cannot perform this action. Try again later.")), self.db.write() as s:
            for incident_id in ids:
                if await IncidentService._exists(s, incident_id):
                    IncidentService._log(s, incident_id, actor, act.EXPORTED, details)
        seconds = sum(((c.last - c.first).total_seconds() + 1 / c.fps) for c in clips if c.first and c.last)
        return ExportResult(path, tuple(clips), tuple(job.report_paths), manifest_hash, seconds,
                            time.monotonic() - started, tuple(missing))


def _produce(job: _Job, report: Callable[[int, str], None]) -> tuple[list[ClipInfo], str]:
    """The blocking part, in a worker thread: everything goes to a staging folder first."""
    token = secrets.token_hex(4)
    staging = job.folder / f".{job.final_name}.part-{token}"
    zip_part = job.folder / f".{job.final_name}.part-{token}.zip"
    staging.mkdir()
    done = 0
    clips: list[ClipInfo] = []
    try:
        fmt = "avi" if job.options.format == "package" else job.options.format
        clip_dir = staging / "clips" if job.options.format == "package" else staging
        clip_dir.mkdir(exist_ok=True)
        entries: list[dict[str, Any]] = []
        for n, item, clip in job.items:
            if job.cancel.is_set():
                raise Cancelled()
            stamp = item.start_time.astimezone(job.tz).strftime("%Y%m%d-%H%M%S")
            name = f"{n:02d}-{safe_name(item.camera_name, f'camera-{item.camera_id}', 40)}-{stamp}{FORMATS[fmt][1]}"
            report(done, _("Writing {name}").format(name=name))

            def tick() -> None:
                nonlocal done
                done += 1
                if done % 8 == 0:
                    report(done, _("Writing {name}").format(name=name))

            info = write_clip(clip, clip_dir / name, fmt, burn=job.options.burn_timestamp, tz=job.tz,
                              cancel=job.cancel, tick=tick)
            clips.append(info)
            if job.options.format == "package":
                digest, size = pkg.hash_file(info.path)
                entries.append({
                    "path": f"clips/{name}", "kind": "clip", "sha256": digest, "size": size,
                    "incident_id": item.incident_id, "camera_id": item.camera_id, "camera": item.camera_name,
                    "start": _iso(item.start_time), "end": _iso(item.end_time),
                    "start_local": _local(item.start_time, job.tz), "end_local": _local(item.end_time, job.tz),
                    "frames": info.frames, "fps": round(info.fps, 6),
                    "first_frame": _iso(info.first), "last_frame": _iso(info.last),
                    "container": "AVI", "codec": "Motion JPEG (re-encoded from the recording)",
                    "timestamp_burned_in": job.options.burn_timestamp,
                })
        manifest_hash = ""
        if job.options.format == "package":
            for incident_id, model in job.reports.items():
                if job.cancel.is_set():
                    raise Cancelled()
                report(done, _("Writing the report of incident project {id}").format(id=incident_id))
                target = staging / f"report-{incident_id}.pdf"
                render_report(model, target)
                digest, size = pkg.hash_file(target)
                entries.append({"path": target.name, "kind": "report", "sha256": digest, "size": size,
                                "incident_id": incident_id, "user_names_shown": job.options.show_user_names,
                                "incomplete": list(model.missing)})
                done += REPORT_WEIGHT
            job.manifest["files"] = entries
            manifest_hash = pkg.finish(staging, job.manifest)
        if job.cancel.is_set():
            raise Cancelled()
        report(done, _("Finishing"))
        final = job.folder / job.final_name
        if job.options.format == "package" and job.options.zip:
            pkg.zip_folder(staging, zip_part)
            os.replace(zip_part, final)
            shutil.rmtree(staging, ignore_errors=True)
            job.report_paths = [final]
        else:
            os.rename(staging, final)
            clips = [ClipInfo(final / c.path.relative_to(staging), c.frames, c.fps, c.first, c.last) for c in clips]
            job.report_paths = [final / f"report-{i}.pdf" for i in job.reports]
        return clips, manifest_hash
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        zip_part.unlink(missing_ok=True)
        raise


def _free_name(folder: Path, name: str) -> str:
    """``name``, or ``name-2``, ``name-3``… when taken (an export never overwrites)."""
    stem, dot, ext = name.partition(".zip") if name.endswith(".zip") else (name, "", "")
    candidate, n = name, 1
    while (folder / candidate).exists():
        n += 1
        candidate = f"{stem}-{n}{dot}{ext}"
    return candidate


def _manifest_head(actor: Actor, ids: list[int], now: datetime, tz: tzinfo) -> dict[str, Any]:
    try:
        version = metadata.version("imtui")
    except metadata.PackageNotFoundError:
        version = "unknown"
    off = now.astimezone(tz).utcoffset()
    minutes = int(off.total_seconds() // 60) if off else 0
    return {
        "format": pkg.FORMAT, "tool": {"name": "imtui", "version": version}, "hash_algorithm": "sha256",
        "incident_ids": ids, "project_id": ids[0] if len(ids) == 1 else None,
        "exported_by": actor.name, "exported_at": _iso(now),
        "time_zone": getattr(tz, "key", None) or str(tz),
        "utc_offset": f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}",
        "files": [],
    }


def _iso(t: datetime | None) -> str | None:
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _local(t: datetime, tz: tzinfo) -> str:
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
