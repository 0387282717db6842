"""Site time: stored in UTC, shown and typed in the site's zone."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

INPUT_FORMAT = "%Y-%m-%d %H:%M"
DISPLAY_FORMAT = "%Y-%m-%d %H:%M:%S"


def parse_site_time(value: str, tz: tzinfo) -> datetime:
    """``YYYY-MM-DD HH:MM`` (or ``HH:MM:SS``) in the site zone -> aware UTC.  Raises ValueError on anything else."""
    try:
        naive = datetime.strptime(value.strip(), INPUT_FORMAT)
    except ValueError:
        naive = datetime.strptime(value.strip(), INPUT_FORMAT + ":%S")
    return naive.replace(tzinfo=tz).astimezone(UTC)


def to_site(value: datetime | None, tz: tzinfo) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back UTC text; treat it as UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz)


def format_site(value: datetime | None, tz: tzinfo, fmt: str = DISPLAY_FORMAT) -> str:
    local = to_site(value, tz)
    return local.strftime(fmt) if local else ""


def utcnow() -> datetime:
    return datetime.now(UTC)
