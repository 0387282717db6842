"""What a report holds, already shaped for the template: plain strings in the site's time zone,
user names replaced by pseudonyms unless asked, and the list of what could not be read."""

from __future__ import annotations

from dataclasses import dataclass, field


class Pseudonyms:
    """Stable stand-ins for user names across one report: the first user met is "User 1", the
    next new one "User 2", and a user met again gets the same name again."""

    def __init__(self, show_names: bool, label: str) -> None:
        self.show_names = show_names
        self.label = label  # e.g. "User {n}" (translated)
        self._seen: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if self.show_names:
            return name
        if name not in self._seen:
            self._seen[name] = self.label.format(n=len(self._seen) + 1)
        return self._seen[name]


@dataclass
class Row:
    label: str
    value: str


@dataclass
class CommentRow:
    at: str
    author: str
    text: str


@dataclass
class CallRow:
    at: str
    direction: str
    party: str
    number: str
    notes: str
    author: str


@dataclass
class SequenceRow:
    number: int
    camera: str
    start: str
    end: str
    added_by: str
    thumbnail: str = ""  # data: URI of a JPEG, empty when the recording could not be read


@dataclass
class ReportModel:
    title: str
    subtitle: str
    incident_id: int
    generated: str  # "2026-12-02 14:05:09 Europe/Paris (UTC+01:00)"
    time_zone: str
    main: list[Row] = field(default_factory=list)
    description: str = ""
    properties: list[Row] = field(default_factory=list)  # categories and data fields
    comments: list[CommentRow] | None = None  # None: not available to this user
    calls: list[CallRow] | None = None
    sequences: list[SequenceRow] | None = None
    missing: list[str] = field(default_factory=list)
