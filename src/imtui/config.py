"""Site configuration: one TOML file, XDG locations, environment overrides.

Administrators on headless servers edit ``~/.config/imtui/config.toml`` (or the file named by
``IMTUI_CONFIG``); ``IMTUI_DATABASE_URL`` beats both the file and ``--db`` so a service unit or a
test can point imtui at another database without touching files.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import platformdirs

APP_NAME = "imtui"


def config_path() -> Path:
    env = os.environ.get("IMTUI_CONFIG")
    if env:
        return Path(env)
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def data_dir() -> Path:
    env = os.environ.get("IMTUI_DATA_DIR")
    return Path(env) if env else platformdirs.user_data_path(APP_NAME)


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{data_dir() / 'imtui.db'}"


def local_timezone() -> tzinfo:
    """The machine's zone, as a named zone when the system says which."""
    tz_env = os.environ.get("TZ")
    if tz_env:
        try:
            return ZoneInfo(tz_env.lstrip(":"))
        except Exception:  # noqa: BLE001 - an odd TZ value falls back to the system's
            pass
    try:
        link = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in link:
            return ZoneInfo(link.split("zoneinfo/", 1)[1])
    except Exception:  # noqa: BLE001
        pass
    from datetime import datetime

    return datetime.now().astimezone().tzinfo  # type: ignore[return-value]


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    timezone: tzinfo = field(default_factory=local_timezone)
    trust_os_user: bool = False
    mouse: bool = False
    poll_seconds: float = 2.0


class ConfigError(ValueError):
    """The config file is unreadable; the message names the key and the fix."""


def load_settings(path: Path | None = None) -> Settings:
    path = path or config_path()
    raw: dict = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc}); fix the line it names.") from exc
    db = raw.get("database", {})
    site = raw.get("site", {})
    auth = raw.get("auth", {})
    ui = raw.get("ui", {})
    kwargs: dict = {}
    url = os.environ.get("IMTUI_DATABASE_URL") or db.get("url")
    if url:
        kwargs["database_url"] = url
    if "timezone" in site:
        try:
            kwargs["timezone"] = ZoneInfo(site["timezone"])
        except Exception as exc:  # noqa: BLE001
            raise ConfigError(
                f"{path}: site.timezone {site['timezone']!r} is not a known zone; "
                "use an IANA name such as 'Europe/Paris'."
            ) from exc
    if "trust_os_user" in auth:
        kwargs["trust_os_user"] = bool(auth["trust_os_user"])
    if "mouse" in ui:
        kwargs["mouse"] = bool(ui["mouse"])
    if "poll_seconds" in ui:
        kwargs["poll_seconds"] = float(ui["poll_seconds"])
    return Settings(**kwargs)
