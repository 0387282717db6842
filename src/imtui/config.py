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


IMAGE_MODES = ("auto", "tgp", "sixel", "halfcell", "unicode", "off")


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
    # How frames are drawn: auto|tgp|sixel|halfcell|unicode|off.  Off unless asked (DESIGN: sites on
    # slow links must not pay for pictures they did not want); `imtui demo` asks for auto.
    image_mode: str = "off"
    video_fps: float = 2.0  # playback frame-rate cap (bytes over SSH grow with it)
    media_dir: Path = field(default_factory=lambda: data_dir() / "media")
    stall_seconds: float = 20.0  # no frame for this long: the camera connection is lost
    pre_seconds: float = 2.0  # recorded before motion starts
    post_seconds: float = 3.0  # recorded after motion stops
    segment_seconds: float = 60.0  # a recorded period is cut into files of at most this length
    bell: bool = False  # ring the terminal bell when a new alarm arrives (ui.bell)
    events_keep_hours: float = 24.0  # events, recognitions and list matches older than this are purged
    heartbeat_seconds: float = 5.0  # a worker reports this often; silent for 3 of them: "Service not responding"
    worker_name: str = ""  # the LPR server's name (worker.name); empty: the host name
    worker_log: Path = field(default_factory=lambda: data_dir() / "worker.log")
    # Commands an alarm definition may run (event actions), by name: [actions.commands] gate = ["/bin/x", "1"].
    # Only the worker host's config can say what runs there; the database only names one.
    action_commands: dict[str, tuple[str, ...]] = field(default_factory=dict)
    action_max_age_seconds: float = 300.0  # outputs of an alarm raised longer ago are skipped (a worker back from an outage)
    # Bounds on every wait on the database ([database] connect_timeout, pool_timeout, statement_timeout):
    # past them the operator reads "Cannot ... Try again later." instead of waiting on a dead server.
    db_connect_timeout: float = 5.0
    db_pool_timeout: float = 5.0
    db_statement_timeout: float = 5.0


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
    media = raw.get("media", {})
    worker = raw.get("worker", {})
    events_cfg = raw.get("events", {})
    actions = raw.get("actions", {})
    kwargs: dict = {}
    url = os.environ.get("IMTUI_DATABASE_URL") or db.get("url")
    if url:
        kwargs["database_url"] = url
    for key in ("connect_timeout", "pool_timeout", "statement_timeout"):
        if key in db:
            kwargs[f"db_{key}"] = _positive(db[key], f"{path}: database.{key}", 3_600)
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
        kwargs["poll_seconds"] = _positive(ui["poll_seconds"], f"{path}: ui.poll_seconds", 3_600)
    if "image_mode" in ui:
        kwargs["image_mode"] = check_image_mode(str(ui["image_mode"]), f"{path}: ui.image_mode")
    if "bell" in ui:
        if not isinstance(ui["bell"], bool):
            raise ConfigError(f"{path}: ui.bell {ui['bell']!r}: write true or false.")
        kwargs["bell"] = ui["bell"]
    if "video_fps" in ui:
        kwargs["video_fps"] = _positive(ui["video_fps"], f"{path}: ui.video_fps", 30, unit="frames per second")
    if "dir" in media:
        kwargs["media_dir"] = Path(str(media["dir"])).expanduser()
    for key in ("stall_seconds", "pre_seconds", "post_seconds", "segment_seconds", "heartbeat_seconds"):
        if key in worker:
            kwargs[key] = _positive(worker[key], f"{path}: worker.{key}", 86_400)
    if "name" in worker:
        name = worker["name"]
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
            raise ConfigError(f"{path}: worker.name {name!r}: write a name of 1 to 100 characters.")
        kwargs["worker_name"] = name.strip()
    if "log" in worker:
        kwargs["worker_log"] = Path(str(worker["log"])).expanduser()
    commands = actions.get("commands", {})
    if not isinstance(commands, dict):
        raise ConfigError(f"{path}: actions.commands: write a table of name = [\"program\", \"argument\", ...].")
    parsed: dict[str, tuple[str, ...]] = {}
    for name, argv in commands.items():
        if (not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv)
                or not argv[0].strip()):
            raise ConfigError(f"{path}: actions.commands.{name}: write a list of strings, the program first, "
                              "e.g. [\"/usr/local/bin/open-gate\", \"--lane\", \"1\"].")
        parsed[str(name)] = tuple(argv)
    if parsed:
        kwargs["action_commands"] = parsed
    if "max_age_seconds" in actions:
        kwargs["action_max_age_seconds"] = _positive(actions["max_age_seconds"], f"{path}: actions.max_age_seconds",
                                                     86_400 * 7)
    if "keep_hours" in events_cfg:
        kwargs["events_keep_hours"] = _positive(events_cfg["keep_hours"], f"{path}: events.keep_hours", 24 * 3650,
                                                unit="hours")
    return Settings(**kwargs)


def check_image_mode(mode: str, where: str = "image mode") -> str:
    if mode not in IMAGE_MODES:
        raise ConfigError(f"{where} {mode!r} is not known; use one of {', '.join(IMAGE_MODES)}.")
    return mode


def _positive(raw: object, where: str, most: float, *, unit: str = "seconds") -> float:
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = -1.0
    if not 0 < value <= most:
        raise ConfigError(f"{where} {raw!r}: give a number of {unit} above 0 and at most {most:g}.")
    return value
