"""Generating, saving and printing incident reports.

Permission: "report" at view level (viewers may make reports of what they can see).  Each part of
the project is read in its own short transaction: when the database or the media store fails
part-way, the parts already read still make a report, which lists what is missing on its first page
and in the result ("Report generated but not all information is included.").  A project that is
gone gives "Cannot generate report. Try again later.".  "Report generated" / "report printed" go to
the project's activity log and to the system audit log (manual 003) in one transaction, after the
PDF is safely on disk.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path


from imtui.engine import activity as act
from imtui.engine import audit
from imtui.engine.base import Service
from imtui.engine.datafields import display_value
from imtui.engine.errors import InvalidInput, ServiceError, StaleError, UnavailableError
from imtui.engine.export.names import writable_folder
from imtui.engine.incidents import (IncidentService, load_calls, load_categories, load_comments, load_core,
                                    load_data, load_sequences)
from imtui.engine.permissions import Actor, Feature, Level, allowed, require
from imtui.engine.properties import read_options
from imtui.engine.report.model import CallRow, CommentRow, Pseudonyms, ReportModel, Row, SequenceRow
from imtui.engine.report.render import css_string, render_html, thumbnail_uri, write_pdf
from imtui.engine.times import DISPLAY_FORMAT, utcnow
from imtui.engine.video.recordings import RecordingService
from imtui.i18n import _, current_language
from imtui.safetext import clean
from imtui.storage.db import Database

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]  # fraction done (0..1), what is happening


def cannot_generate() -> ServiceError:
    return ServiceError(_("Cannot generate report. Try again later."))


@dataclass(frozen=True)
class ReportResult:
    path: Path
    pages: int
    missing: tuple[str, ...]  # empty: everything is in

    @property
    def message(self) -> str:
        if self.missing:
            return _("Report generated but not all information is included.") + " " + _("Missing: {parts}.").format(
                parts="; ".join(self.missing))
        return _("Report saved: {path} ({pages} pages).").format(path=self.path, pages=self.pages)


def report_path(raw: str, incident_id: int) -> Path:
    """Where to save: the typed path (``~`` expanded); a folder gets ``incident-<id>-report.pdf``;
    ``.pdf`` is added when missing.  The folder must exist and be writable."""
    text = raw.strip()
    if not text:
        raise InvalidInput("path", _("Save as: type a file name or a folder, e.g. ~/incident-{id}.pdf.").format(
            id=incident_id))
    path = Path(text).expanduser()
    if path.is_dir():
        path = path / f"incident-{incident_id}-report.pdf"
    if path.suffix.lower() != ".pdf":
        path = path.with_name(path.name + ".pdf")
    writable_folder(path.parent, "path", _("Save as"))
    return path


def printer_available() -> bool:
    return shutil.which("lp") is not None


class ReportService(Service):
    def __init__(self, db: Database, recordings: RecordingService, tz: tzinfo) -> None:
        super().__init__(db)
        self.recordings = recordings
        self.tz = tz

    # -- reading ----------------------------------------------------------------------------------------
    async def build(self, actor: Actor, incident_id: int, *, show_user_names: bool = False,
                    progress: Progress | None = None) -> ReportModel:
        """Read the project part by part into a ReportModel (see the module docstring)."""
        require(actor, Feature.INCIDENTS, Level.VIEW)
        require(actor, Feature.REPORT, Level.VIEW)
        step = _stepper(progress, 7)
        tz = self.tz
        when = lambda t: _site(t, tz)  # noqa: E731
        who = Pseudonyms(show_user_names, _("User {n}"))
        missing: list[str] = []

        step(_("Reading the incident project"))
        try:
            async with self.db.read() as s:
                core = await load_core(s, incident_id)
                options = await read_options(s)
        except StaleError:
            raise cannot_generate() from None
        except ServiceError:
            raise
        except Exception as exc:  # noqa: BLE001 - unreachable DB or anything else: nothing to report
            log.error("cannot read project %s for its report", incident_id, exc_info=exc)
            raise cannot_generate() from exc
        now = utcnow()
        model = ReportModel(
            title=clean(options.report_title), subtitle=_("Incident report"), incident_id=core.id,
            generated=_("Generated {time}").format(time=_zone_time(now, tz)),
            time_zone=_zone_label(now, tz))
        model.main = [
            Row(_("ID"), str(core.id)),
            Row(_("Type"), clean(core.type_name)),
            Row(_("Status"), clean(core.status_name)),
            Row(_("Created by"), clean(who(core.created_by))),
            Row(_("Created at"), when(core.created_at)),
            Row(_("Start time"), when(core.start_time) or _("none")),
            Row(_("End time"), when(core.end_time) or _("none")),
        ]
        model.description = clean(core.description, multiline=True)

        step(_("Reading categories and incident data"))
        try:
            model.properties = await self._properties(incident_id)
        except Exception:  # noqa: BLE001
            missing.append(_("categories and incident data"))

        step(_("Reading comments"))
        if allowed(actor, Feature.COMMENTS, Level.VIEW):
            try:
                async with self.db.read() as s:
                    comments = await load_comments(s, incident_id)
                model.comments = [CommentRow(when(c.created_at), clean(who(c.author)), clean(c.text, multiline=True))
                                  for c in comments]
            except Exception:  # noqa: BLE001
                missing.append(_("comments"))
                model.comments = []

        step(_("Reading calls"))
        if allowed(actor, Feature.CALLS, Level.VIEW):
            directions = {"incoming": _("Incoming"), "outgoing": _("Outgoing")}
            try:
                async with self.db.read() as s:
                    calls = await load_calls(s, incident_id)
                model.calls = [CallRow(when(c.at), directions.get(c.direction, clean(c.direction)), clean(c.party),
                                       clean(c.number), clean(c.notes, multiline=True), clean(who(c.author)))
                               for c in calls]
            except Exception:  # noqa: BLE001
                missing.append(_("calls"))
                model.calls = []

        step(_("Reading sequences"))
        sequences = []
        if allowed(actor, Feature.SEQUENCES, Level.VIEW):
            try:
                async with self.db.read() as s:
                    sequences = await load_sequences(s, incident_id)
                model.sequences = [SequenceRow(n, clean(q.camera_name), when(q.start_time), when(q.end_time),
                                               clean(who(q.added_by))) for n, q in enumerate(sequences, 1)]
            except Exception:  # noqa: BLE001
                missing.append(_("sequences"))
                model.sequences = []

        step(_("Reading a picture of each sequence"))
        for row, q in zip(model.sequences or [], sequences, strict=False):
            uri = await self._thumbnail(actor, q.camera_id, q.start_time, q.end_time)
            if uri:
                row.thumbnail = uri
            else:
                missing.append(_("picture of sequence {n} ({camera}, {start})").format(
                    n=row.number, camera=row.camera, start=row.start))
        model.missing = missing
        return model

    async def _properties(self, incident_id: int) -> list[Row]:
        definitions = await IncidentService(self.db).definitions()
        async with self.db.read() as s:
            chosen = await load_categories(s, incident_id)
            data = await load_data(s, incident_id)
        rows: list[Row] = []
        for cat in definitions.categories:
            names = {v.id: v.name for v in cat.values}
            value = names.get(chosen.get(cat.slot, 0), "")
            rows.append(Row(clean(cat.name), clean(value) or _("none")))
        for f in definitions.fields:
            stored = data.get(f.id, "")
            rows.append(Row(clean(f.name), clean(display_value(f.kind, stored, self.tz)) if stored else _("none")))
        return rows

    async def _thumbnail(self, actor: Actor, camera_id: int, start: datetime, end: datetime) -> str:
        """A JPEG of the frame in the middle of the sequence, or "" when it cannot be read."""
        try:
            mid = start + (end - start) / 2
            ref = await self.recordings.frame_at(actor, camera_id, mid)
            if ref is None or not (start <= ref.time <= end) or not ref.readable:
                ref = await self.recordings.frame_at(actor, camera_id, start)
            if ref is None or not ref.readable:
                return ""
            frame = await asyncio.to_thread(self.recordings.read_frame, ref)
            return await asyncio.to_thread(thumbnail_uri, frame) if frame is not None else ""
        except Exception:  # noqa: BLE001 - a missing picture is listed, never fatal
            return ""

    # -- producing ------------------------------------------------------------------------------------
    async def save(self, actor: Actor, incident_id: int, target: Path, *, show_user_names: bool = False,
                   progress: Progress | None = None) -> ReportResult:
        """Build the report, write the PDF to ``target`` (atomically), log "report generated"."""
        model = await self.build(actor, incident_id, show_user_names=show_user_names, progress=progress)
        if progress:
            progress(0.75, _("Laying out the pages"))
        try:
            pages = await asyncio.to_thread(render_report, model, target)
        except OSError as exc:
            raise InvalidInput("path", _("Save as: cannot write {path} ({reason}); choose another place.").format(
                path=clean(str(target)), reason=clean(exc.strerror or str(exc)))) from exc
        await self._log(actor, incident_id, act.REPORT_GENERATED, audit.REPORT_GENERATED,
                        _report_details(target.name, show_user_names, model.missing))
        if progress:
            progress(1.0, _("Done"))
        return ReportResult(target, pages, tuple(model.missing))

    async def print(self, actor: Actor, incident_id: int, *, show_user_names: bool = False,
                    progress: Progress | None = None, printer: str | None = None) -> ReportResult:
        """Build the report and send it to ``lp`` (CUPS); logs "report printed"."""
        lp = shutil.which("lp")
        if lp is None:
            raise ServiceError(_("Cannot print: no lp command on this machine. Save the report as PDF instead."))
        model = await self.build(actor, incident_id, show_user_names=show_user_names, progress=progress)
        if progress:
            progress(0.75, _("Laying out the pages"))
        with tempfile.TemporaryDirectory(prefix="imtui-print-") as tmp:
            target = Path(tmp) / f"incident-{incident_id}-report.pdf"
            pages = await asyncio.to_thread(render_report, model, target)
            if progress:
                progress(0.9, _("Sending to the printer"))
            args = [lp, "-t", f"Incident report {incident_id}"] + (["-d", printer] if printer else []) + [str(target)]
            done = await asyncio.to_thread(subprocess.run, args, capture_output=True, text=True, timeout=60)
            if done.returncode != 0:
                reason = clean((done.stderr or done.stdout).strip().splitlines()[-1:] or ["lp failed"])
                raise ServiceError(_("Cannot print: {reason}").format(reason=reason))
        await self._log(actor, incident_id, act.REPORT_PRINTED, audit.REPORT_PRINTED,
                        _report_details(printer or "default printer", show_user_names, model.missing))
        if progress:
            progress(1.0, _("Done"))
        return ReportResult(target, pages, tuple(model.missing))

    async def _log(self, actor: Actor, incident_id: int, action: str, audit_action: str, details: str) -> None:
        """Activity (if the project still exists) and audit, in one transaction.  The PDF already
        exists, so a failure here is reported, not hidden."""
        try:
            async with self.db.write() as s:
                if await IncidentService._exists(s, incident_id):
                    IncidentService._log(s, incident_id, actor, action, details)
                audit.record(s, actor, audit_action, f"incident {incident_id}", details)
        except ServiceError:
            raise
        except Exception as exc:  # noqa: BLE001
            log.error("report of project %s: activity not written", incident_id, exc_info=exc)
            raise UnavailableError(_("Report generated, but the activity log could not be written. Try again later.")) from exc


def render_report(model: ReportModel, target: Path) -> int:
    """The PDF of a report model (blocking: call it from a worker thread)."""
    page = _("Page {page} of {pages}")
    before, _sep, rest = page.partition("{page}")
    middle, _sep, after = rest.partition("{pages}")
    page_css = " ".join(x for x in (css_string(before) if before else "", "counter(page)",
                                    css_string(middle) if middle else "", "counter(pages)",
                                    css_string(after) if after else "") if x)
    labels = dict(
        lang=current_language(), page_css=page_css, id=_("ID"), times_in=model.time_zone,
        partial=_("Report generated but not all information is included."), description=_("Description"),
        none=_("none"), properties=_("Categories and incident data"), comments=_("Comments"), calls=_("Calls"),
        sequences=_("Sequence list"), unavailable=_("This information is not available to you."), time=_("Time"),
        author=_("Author"), comment=_("Comment"), direction=_("Direction"), party=_("Party"), number=_("Number"),
        notes=_("Notes"), thumbnail=_("Picture of sequence"), no_picture=_("No picture: the recording could not be read."),
        sequence=_("Sequence"), camera=_("Camera"), start=_("Start"), end=_("End"), added_by=_("Added by"))
    return write_pdf(render_html(model, labels), target)


def _report_details(where: str, show_user_names: bool, missing: list[str]) -> str:
    names = "user names shown" if show_user_names else "user names hidden"
    part = f"; incomplete: {len(missing)} part(s) missing" if missing else ""
    return f"{where} ({names}{part})"


def _stepper(progress: Progress | None, steps: int) -> Callable[[str], None]:
    done = [0]

    def step(label: str) -> None:
        if progress:
            progress(0.7 * done[0] / steps, label)
        done[0] += 1
    return step


def _site(t: datetime | None, tz: tzinfo) -> str:
    if t is None:
        return ""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(tz).strftime(DISPLAY_FORMAT)


def _offset(t: datetime, tz: tzinfo) -> str:
    off = t.astimezone(tz).utcoffset()
    minutes = int(off.total_seconds() // 60) if off else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _zone_name(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or str(tz)


def _zone_label(now: datetime, tz: tzinfo) -> str:
    return _("Times are in {zone} ({offset} when generated).").format(zone=_zone_name(tz), offset=_offset(now, tz))


def _zone_time(now: datetime, tz: tzinfo) -> str:
    return f"{_site(now, tz)} {_zone_name(tz)} ({_offset(now, tz)})"
