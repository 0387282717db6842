"""The composition root below the UI: one object holding every service for one database."""

from __future__ import annotations

from dataclasses import dataclass, field

from imtui.config import Settings
from imtui.engine.incidents import IncidentService
from imtui.engine.permissions import Actor
from imtui.engine.audit import AuditService
from imtui.engine.properties import PropertyService
from imtui.engine.retention import RetentionService
from imtui.engine.security import SecurityService
from imtui.engine.drafts import DraftService
from imtui.engine.events import EventService
from imtui.engine.lpr_events import LprEventService
from imtui.engine.report.service import ReportService
from imtui.engine.export.service import ExportService
from imtui.engine.alarm_detail import AlarmDetailService
from imtui.engine.alarms import AlarmService
from imtui.engine.lpr_servers import LprServerService
from imtui.engine.matchlists.service import MatchListService
from imtui.engine.recognition.service import LprService
from imtui.engine.video.cameras import CameraService
from imtui.engine.video.media import MediaStore
from imtui.engine.video.recordings import RecordingService
from imtui.engine.video.realtime import RealtimeService
from imtui.engine.video.views import ViewService
from imtui.engine.users import resolve_actor
from imtui.engine.base import guard, open_database
from imtui.i18n import _
from imtui.storage.db import Database


@dataclass
class Services:
    settings: Settings
    db: Database = field(init=False)
    incidents: IncidentService = field(init=False)
    properties: PropertyService = field(init=False)
    retention: RetentionService = field(init=False)
    audit: AuditService = field(init=False)
    security: SecurityService = field(init=False)
    cameras: CameraService = field(init=False)
    drafts: DraftService = field(init=False)
    events: EventService = field(init=False)
    recordings: RecordingService = field(init=False)
    views: ViewService = field(init=False)
    realtime: RealtimeService = field(init=False)
    reports: ReportService = field(init=False)
    exports: ExportService = field(init=False)
    lpr: LprService = field(init=False)
    lpr_events: LprEventService = field(init=False)
    matchlists: MatchListService = field(init=False)
    alarms: AlarmService = field(init=False)
    alarm_details: AlarmDetailService = field(init=False)
    servers: LprServerService = field(init=False)

    def __post_init__(self) -> None:
        self.db = open_database(self.settings)
        self.incidents = IncidentService(self.db)
        self.properties = PropertyService(self.db)
        self.retention = RetentionService(self.db)
        self.audit = AuditService(self.db)
        self.security = SecurityService(self.db)
        self.cameras = CameraService(self.db)
        self.drafts = DraftService(self.db, self.incidents)
        self.events = EventService(self.db)
        self.recordings = RecordingService(self.db, MediaStore(self.settings.media_dir))
        self.views = ViewService(self.db)
        self.realtime = RealtimeService(self.db, self.incidents)
        self.reports = ReportService(self.db, self.recordings, self.settings.timezone)
        self.exports = ExportService(self.db, self.recordings, self.reports, self.settings.timezone)
        self.lpr = LprService(self.db, self.recordings.store)
        self.lpr_events = LprEventService(self.db, self.recordings.store)
        self.matchlists = MatchListService(self.db)
        self.alarms = AlarmService(self.db)
        self.alarm_details = AlarmDetailService(self.db, self.recordings.store, self.alarms)
        self.servers = LprServerService(self.db)

    async def upgrade(self) -> None:
        """Upgrade the schema (an empty or old database is fine); an unreachable database is the
        manual's "try again later", not a driver error."""
        async with guard(_("Cannot perform this action. Try again later.")):
            await self.db.upgrade()

    async def start(self, user: str) -> Actor:
        """Upgrade the schema and log ``user`` in."""
        await self.upgrade()
        return await resolve_actor(self.db, user)

    async def close(self) -> None:
        await self.incidents.opened.close()  # the "opened" entries still queued (never lost silently)
        await self.db.dispose()
