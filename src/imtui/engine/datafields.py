"""Incident data field values: validated by kind, stored as canonical text, shown in site time.

Kinds (manual 003): integer, decimal, free text, checkbox, date-time.  A wrong value names the
field and the format, and nothing is saved.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation

from imtui.engine.errors import InvalidInput
from imtui.engine.times import INPUT_FORMAT, parse_site_time
from imtui.i18n import _

MAX_TEXT = 1000
TRUE, FALSE = "true", "false"


def parse_value(kind: str, name: str, raw: str, tz: tzinfo, field: str) -> str:
    """The canonical stored text for ``raw`` ("" clears the field), or InvalidInput."""
    raw = raw.strip() if kind != "text" else raw
    if raw == "" or (kind == "checkbox" and raw == FALSE):
        return "" if kind != "checkbox" else FALSE
    if kind == "integer":
        try:
            return str(int(raw.replace(" ", "")))
        except ValueError:
            raise InvalidInput(field, _("{name}: type a whole number, e.g. 3.").format(name=name)) from None
    if kind == "decimal":
        try:
            value = Decimal(raw.replace(" ", "").replace(",", "."))
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            raise InvalidInput(field, _("{name}: type a number, e.g. 1250.50.").format(name=name)) from None
        return format(value.normalize(), "f")
    if kind == "datetime":
        try:
            return parse_site_time(raw, tz).isoformat()
        except ValueError:
            raise InvalidInput(
                field, _("{name}: type the date and time as YYYY-MM-DD HH:MM, e.g. 2026-03-01 14:30.").format(name=name)
            ) from None
    if kind == "checkbox":
        if raw not in (TRUE, FALSE):
            raise InvalidInput(field, _("{name}: tick or untick the box.").format(name=name))
        return raw
    if len(raw) > MAX_TEXT:
        raise InvalidInput(field, _("{name}: shorten the text to {max} characters or fewer.").format(name=name, max=MAX_TEXT))
    return raw


def display_value(kind: str, stored: str, tz: tzinfo) -> str:
    """How a stored value is typed back into the editor (site time for date-times)."""
    if kind == "datetime" and stored:
        return datetime.fromisoformat(stored).astimezone(tz).strftime(INPUT_FORMAT)
    if kind == "checkbox":
        return stored or FALSE
    return stored


def describe(kind: str, stored: str, tz: tzinfo = UTC) -> str:
    """A value for the activity log ("—" when empty)."""
    if kind == "checkbox":
        return _("yes") if stored == TRUE else _("no")
    return display_value(kind, stored, tz) or "—"
