"""The tables.  Datetimes are timezone-aware UTC everywhere (SQLModel rejects naive ones).

Names are singular and short because raw SQL (FTS triggers, benchmarks, bulk loads) uses them.
Schema changes go through an Alembic migration in ``storage/migrations/versions``; this module and
the newest migration must describe the same schema (a test compares them).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    full_name: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    password_hash: str | None = Field(default=None, max_length=255)
    disabled: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = None


class Role(SQLModel, table=True):
    __tablename__ = "role"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    builtin: bool = False  # the Administrator role: always everything, never changed or deleted


class RoleGrant(SQLModel, table=True):
    __tablename__ = "role_grant"
    role_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("role.id", ondelete="CASCADE"), primary_key=True))
    feature: str = Field(primary_key=True, max_length=32)
    level: int = 0  # 0 none, 1 view, 2 manage


class UserRole(SQLModel, table=True):
    __tablename__ = "user_role"
    user_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True))
    role_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("role.id", ondelete="CASCADE"), primary_key=True))


class IncidentType(SQLModel, table=True):
    __tablename__ = "incident_type"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=1000)
    position: int = 0


class IncidentStatus(SQLModel, table=True):
    __tablename__ = "incident_status"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=1000)
    position: int = 0


class Category(SQLModel, table=True):
    """One of the five category slots an administrator may enable (manual 003)."""

    __tablename__ = "category"
    slot: int = Field(primary_key=True)  # 1..5
    name: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=1000)
    enabled: bool = False


class CategoryValue(SQLModel, table=True):
    __tablename__ = "category_value"
    id: int | None = Field(default=None, primary_key=True)
    category_slot: int = Field(foreign_key="category.slot", index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=1000)
    position: int = 0


class DataField(SQLModel, table=True):
    """Incident data fields: up to three of each kind, each enabled with a name (manual 003)."""

    __tablename__ = "data_field"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # integer | decimal | text | checkbox | datetime
    slot: int  # 1..3
    name: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=1000)
    enabled: bool = False


class LprServer(SQLModel, table=True):
    """A running (or once running) ``imtui worker``: who it is, its last heartbeat and what it
    reported then (manual 004, "LPR server information").  ``responding`` is the last state an
    event was raised for, so "not responding" and "responding" are raised once per outage."""

    __tablename__ = "lpr_server"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    host: str = Field(max_length=200)
    pid: int = 0
    started_at: datetime = Field(default_factory=utcnow)
    heartbeat_at: datetime = Field(default_factory=utcnow)
    interval: float = 5.0  # seconds between heartbeats; silent for 3 of them: not responding
    state: str = Field(default="running", max_length=20)  # running | stopped
    responding: bool = True
    stop_requested: bool = False  # imtui worker stop: the worker stops at its next heartbeat
    cpu_percent: float = 0.0  # the whole computer's
    memory_available: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False))
    plates: int = 0  # recognised since the worker started
    cameras: str = Field(default="{}")  # JSON: camera id -> starting | running | lost
    error: str = ""  # what keeps it from working (e.g. recognition could not start)


class Camera(SQLModel, table=True):
    __tablename__ = "camera"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    source: str = Field(default="", max_length=1000)
    enabled: bool = True
    retention_days: int = 30  # recordings older than this are deleted unless a sequence holds them
    motion_sensitivity: int = 50  # 1 (only big changes) .. 100 (the slightest change)
    # The worker (LPR server) that records and reads it; None until a worker claims it.
    server_id: int | None = Field(default=None, sa_column=sa.Column(
        sa.Integer, sa.ForeignKey("lpr_server.id", ondelete="SET NULL"), nullable=True))


class Setting(SQLModel, table=True):
    __tablename__ = "setting"
    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(default="")


class Incident(SQLModel, table=True):
    __tablename__ = "incident"
    __table_args__ = (
        sa.Index("ix_incident_created", "created_at", "id"),
        sa.Index("ix_incident_start", "start_time", "end_time", "created_at", "id"),
        sa.Index("ix_incident_end", "end_time"),
        sa.Index("ix_incident_type", "type_id"),
        sa.Index("ix_incident_status", "status_id"),
        sa.Index("ux_incident_client_token", "client_token", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=64)
    type_id: int = Field(foreign_key="incident_type.id")
    status_id: int = Field(foreign_key="incident_status.id")
    description: str = Field(default="")
    # Derived from the sequences and stored so the time filters can use an index.
    start_time: datetime | None = None
    end_time: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 1
    # Made by the client for this one save: a retry after a lost COMMIT answer finds the stored row
    # instead of adding a second one (unique; NULL for rows made before 0015 and by imports).
    client_token: str | None = Field(default=None, max_length=36)


class Sequence(SQLModel, table=True):
    __tablename__ = "sequence"
    __table_args__ = (sa.Index("ix_sequence_start", "start_time", "end_time"),)
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"), index=True, nullable=False)
    )
    camera_id: int = Field(foreign_key="camera.id")
    start_time: datetime
    end_time: datetime
    added_at: datetime = Field(default_factory=utcnow)
    added_by: str = Field(default="", max_length=64)


class Comment(SQLModel, table=True):
    __tablename__ = "comment"
    __table_args__ = (sa.Index("ux_comment_client_token", "client_token", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"), index=True, nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow)
    author: str = Field(max_length=64)
    text: str
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 1
    # Made by the client for this one save: a retry after a lost COMMIT answer finds the stored row
    # instead of adding a second one (unique; NULL for rows made before 0015 and by imports).
    client_token: str | None = Field(default=None, max_length=36)


class Call(SQLModel, table=True):
    __tablename__ = "call"
    __table_args__ = (sa.Index("ux_call_client_token", "client_token", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"), index=True, nullable=False)
    )
    at: datetime
    direction: str = Field(max_length=16)  # incoming | outgoing
    party: str = Field(default="", max_length=200)  # caller (incoming) or callee (outgoing)
    number: str = Field(default="", max_length=64)
    notes: str = Field(default="")
    author: str = Field(max_length=64)
    version: int = 1
    # Made by the client for this one save: a retry after a lost COMMIT answer finds the stored row
    # instead of adding a second one (unique; NULL for rows made before 0015 and by imports).
    client_token: str | None = Field(default=None, max_length=36)


class Activity(SQLModel, table=True):
    """The incident activity log.  Not a foreign key: entries outlive a deleted project."""

    __tablename__ = "activity"
    __table_args__ = (sa.Index("ix_activity_incident", "incident_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int
    at: datetime = Field(default_factory=utcnow)
    user: str = Field(max_length=64)
    action: str = Field(max_length=64)
    details: str = Field(default="")


class ChangeTopic(SQLModel, table=True):
    """SQLite's change hub: one row per topic (storage/changes.py), bumped by every write of that
    topic; open TUIs poll the table to refresh only the lists whose topic changed."""

    __tablename__ = "change_topic"
    topic: str = Field(max_length=32, primary_key=True)
    value: int = Field(default=0, sa_type=sa.BigInteger)


class IncidentCategory(SQLModel, table=True):
    """The value an incident project has for one enabled category (at most one per slot)."""

    __tablename__ = "incident_category"
    incident_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)
    )
    slot: int = Field(primary_key=True)
    value_id: int = Field(foreign_key="category_value.id", index=True)


class IncidentData(SQLModel, table=True):
    """The value an incident project has for one data field, as text in a canonical form."""

    __tablename__ = "incident_data"
    incident_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)
    )
    field_id: int = Field(foreign_key="data_field.id", primary_key=True, index=True)
    value: str = ""


class AuditEntry(SQLModel, table=True):
    """The system audit log: administration, logins, project create/delete, reports (manual 003)."""

    __tablename__ = "audit"
    __table_args__ = (sa.Index("ix_audit_at", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    user: str = Field(max_length=64)
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=200)
    details: str = Field(default="")


class DraftSequence(SQLModel, table=True):
    """An operator's draft sequence list entry (manual 000): kept until added to a project."""

    __tablename__ = "draft_sequence"
    __table_args__ = (sa.Index("ix_draft_sequence_user", "user", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    user: str = Field(max_length=64)
    camera_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("camera.id", ondelete="CASCADE"), nullable=False))
    start_time: datetime
    end_time: datetime
    added_at: datetime = Field(default_factory=utcnow)


class ExportItem(SQLModel, table=True):
    """An operator's export list entry (manual 000, "Send for export"): a camera and a time span,
    remembered with the project it came from, until exported or removed.  Kept per user in the
    database so a dropped SSH session loses nothing."""

    __tablename__ = "export_item"
    __table_args__ = (sa.Index("ix_export_item_user", "user", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    user: str = Field(max_length=64)
    incident_id: int | None = Field(default=None)  # no FK: the list outlives a deleted project
    camera_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("camera.id", ondelete="CASCADE"), nullable=False))
    start_time: datetime
    end_time: datetime
    added_at: datetime = Field(default_factory=utcnow)


class LprCamera(SQLModel, table=True):
    """A camera's licence-plate recognition: on or off, and its recognition settings (JSON of
    imtui.lpr.settings.RecognitionSettings, so new settings need no migration)."""

    __tablename__ = "lpr_camera"
    camera_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("camera.id", ondelete="CASCADE"),
                                               primary_key=True))
    enabled: bool = False
    settings: str = Field(default="{}")
    changed_at: datetime = Field(default_factory=utcnow)
    match_all: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})  # manual 004: All lists
    match_lists: str = Field(default="[]", sa_column_kwargs={"server_default": "[]"})  # JSON ids when not all


class LprSnapshot(SQLModel, table=True):
    """A still of an LPR camera (captured from its stream or imported) for validation and
    auto-configuration (manual 004); the image is a file in the media store."""

    __tablename__ = "lpr_snapshot"
    id: int | None = Field(default=None, primary_key=True)
    camera_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("camera.id", ondelete="CASCADE"), nullable=False))
    name: str = Field(max_length=200)
    path: str = Field(max_length=500)
    added_at: datetime = Field(default_factory=utcnow)


class PlateRecognition(SQLModel, table=True):
    """One vehicle passage read by a worker: the voted plate, its country and confidence, and the
    best crop as snapshot (a file in the media store).  Match lists and alarms use these."""

    __tablename__ = "recognition"
    __table_args__ = (sa.Index("ix_recognition_at", "at"), sa.Index("ix_recognition_plate", "plate", "at"),
                      sa.Index("ix_recognition_camera", "camera_id", "at"),
                      sa.Index("ux_recognition_passage", "camera_id", "passage", unique=True))
    id: int | None = Field(default=None, primary_key=True)
    camera_id: int  # no FK: recognitions outlive a deleted camera until their retention ends
    at: datetime  # first seen (the stream's clock)
    last_seen: datetime
    plate: str = Field(max_length=16)
    country: str = Field(max_length=16)
    confidence: float
    reads: int = 1
    snapshot: str = Field(default="", max_length=500)
    source: str = Field(default="", max_length=200)  # worker host
    # The passage's key: its plate and first-seen time (engine/recognition/passages.py).  Unique per
    # camera, so a passage stored again (a late settle, a retried commit) updates its row; NULL on
    # rows stored before it existed.
    passage: str | None = Field(default=None, max_length=40)


class Recording(SQLModel, table=True):
    """One segment file of the media store.  Segments of one uninterrupted recorded period share
    ``period_start``; a segment being written has ``closed`` false and grows (end, frames, bytes)."""

    __tablename__ = "recording"
    # One row per segment file (unique path): the worker upserts, so a retry after an outage updates
    # the row instead of adding a second one.
    __table_args__ = (sa.Index("ix_recording_camera", "camera_id", "start_time"), sa.Index("ix_recording_end", "end_time"),
                      sa.Index("ux_recording_path", "path", unique=True))
    id: int | None = Field(default=None, primary_key=True)
    camera_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("camera.id", ondelete="CASCADE"), nullable=False))
    period_start: datetime
    start_time: datetime
    end_time: datetime
    path: str = Field(max_length=500)  # relative to the media store
    frame_count: int = 0
    bytes: int = 0
    width: int = 0
    height: int = 0
    closed: bool = False


class Event(SQLModel, table=True):
    """Something the worker noticed (camera lost/running, storage errors); alarms build on these."""

    __tablename__ = "event"
    __table_args__ = (sa.Index("ix_event_at", "at"), sa.Index("ix_event_kind", "kind", "at"))
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    kind: str = Field(max_length=40)
    camera_id: int | None = None  # no foreign key: events outlive the cameras they name
    source: str = Field(default="", max_length=200)  # which worker host
    message: str = ""


class LiveView(SQLModel, table=True):
    """A named group of cameras shown together in live mode."""

    __tablename__ = "live_view"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)


class LiveViewCamera(SQLModel, table=True):
    __tablename__ = "live_view_camera"
    view_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("live_view.id", ondelete="CASCADE"),
                                             primary_key=True))
    camera_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("camera.id", ondelete="CASCADE"),
                                               primary_key=True))
    position: int = 0


class MatchList(SQLModel, table=True):
    """A licence-plate match list (manual 004) with its matching tolerances; ``kind`` is "list",
    or "unlisted" for the one special list that matches reads on none of a camera's lists."""

    __tablename__ = "match_list"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    kind: str = Field(default="list", max_length=20)
    ocr_equivalence: int = 0  # 0 off, 1 O/0 I/1, 2 also B/8 S/5 Z/2 G/6
    differences: int = 0  # 0 or 1 other edit allowed
    changed_at: datetime = Field(default_factory=utcnow)


class MatchListField(SQLModel, table=True):
    """A custom column of a match list; entries keep values by field id, so renaming or moving a
    column never rewrites a million entries."""

    __tablename__ = "match_list_field"
    __table_args__ = (sa.Index("ix_match_list_field_list", "list_id", "position"),
                      {"sqlite_autoincrement": True})  # a deleted field's id is never reused
    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("match_list.id", ondelete="CASCADE"),
                                             nullable=False))
    position: int = 0
    name: str = Field(max_length=100)


class MatchListEntry(SQLModel, table=True):
    """One plate of a list (as typed: ``?`` wildcards, ``_`` between two parts) and its custom
    field values (JSON object: field id -> text)."""

    __tablename__ = "match_list_entry"
    __table_args__ = (sa.Index("ux_match_list_entry_plate", "list_id", "plate", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("match_list.id", ondelete="CASCADE"),
                                             nullable=False))
    plate: str = Field(max_length=20)
    fields: str = Field(default="{}")
    added_at: datetime = Field(default_factory=utcnow)


class PlateMatch(SQLModel, table=True):
    """A recognition that matched a list (or the Unlisted list: ``entry_id`` None, ``rule``
    "unlisted").  The list's name and the entry's fields are copied: the event must say what the
    list said when it fired, even after the entry is edited or the list deleted."""

    __tablename__ = "plate_match"
    __table_args__ = (sa.Index("ix_plate_match_at", "at"), sa.Index("ix_plate_match_list", "list_id", "at"),
                      sa.Index("ux_plate_match_once", "recognition_id", "list_id", unique=True))
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)  # when the plate was read
    recognition_id: int
    camera_id: int
    plate: str = Field(max_length=20)  # as read
    list_id: int
    list_name: str = Field(max_length=100)
    entry_id: int | None = None
    entry_plate: str = Field(default="", max_length=20)  # as stored on the list (wildcards kept)
    fields: str = Field(default="{}")  # JSON: field name -> value, at match time
    rule: str = Field(max_length=20)  # exact, wildcard, ocr-equivalence, one-difference, unlisted
    retroactive: bool = False  # found when the list gained the plate, after the read


class AlarmDefinition(SQLModel, table=True):
    """What raises an alarm (manual 004, "Alarms triggered by LPR"): a match list (``trigger``
    "list" with ``list_id``) or a camera/server event kind, from which cameras (JSON ids; [] = all),
    with which priority (1 high, 2 medium, 3 low)."""

    __tablename__ = "alarm_definition"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    trigger: str = Field(max_length=40)
    list_id: int | None = None
    cameras: str = Field(default="[]")
    priority: int = 2
    enabled: bool = True
    changed_at: datetime = Field(default_factory=utcnow)
    # Event actions, for gates and lights: a JSON POST (timeout s, retries) and a command (shlex-split,
    # run without a shell).  Empty: no output.
    webhook_url: str = Field(default="", max_length=1000, sa_column_kwargs={"server_default": ""})
    webhook_timeout: float = Field(default=5.0, sa_column_kwargs={"server_default": "5"})
    webhook_retries: int = Field(default=2, sa_column_kwargs={"server_default": "2"})
    command: str = Field(default="", max_length=1000, sa_column_kwargs={"server_default": ""})
    # Outputs for alarms found after the read (a list gained the plate): off, the vehicle has gone.
    retroactive_outputs: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class Alarm(SQLModel, table=True):
    """One raised alarm.  Object = plate, Tag = country code, Type = list or event name (manual
    004); the definition's name and priority are copied so the alarm reads the same after the
    definition changes."""

    __tablename__ = "alarm"
    __table_args__ = (sa.Index("ix_alarm_at", "at"), sa.Index("ix_alarm_state", "state", "at"),
                      sa.Index("ix_alarm_actions_pending", "actions_pending"),
                      sa.Index("ux_alarm_match", "definition_id", "match_id", unique=True))  # one per match
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    definition_id: int | None = None
    name: str = Field(max_length=100)
    priority: int = 2
    state: str = Field(default="new", max_length=20)  # new, in_progress, on_hold, closed
    assigned_to: str = Field(default="", max_length=100)
    object: str = Field(default="", max_length=100)
    tag: str = Field(default="", max_length=40)
    type: str = Field(default="", max_length=100)
    camera_id: int | None = None
    match_id: int | None = None
    event_id: int | None = None
    incident_id: int | None = None  # the incident project made of it
    message: str = ""
    actions_pending: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})  # outputs to run


class AlarmLog(SQLModel, table=True):
    """Every change to an alarm: raised, state, assignment, comment, project created."""

    __tablename__ = "alarm_log"
    __table_args__ = (sa.Index("ix_alarm_log_alarm", "alarm_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    alarm_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("alarm.id", ondelete="CASCADE"), nullable=False))
    at: datetime = Field(default_factory=utcnow)
    user: str = Field(max_length=100)
    action: str = Field(max_length=40)
    details: str = ""
