"""The config file: defaults, every video key, and messages that name the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from imtui.config import ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_keep_pictures_off(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "missing.toml")
    # DESIGN: images off unless asked (slow links); two frames a second when asked.
    assert settings.image_mode == "off"
    assert settings.video_fps == 2.0
    assert (settings.pre_seconds, settings.post_seconds, settings.segment_seconds) == (2.0, 3.0, 60.0)


def test_video_keys_are_read(tmp_path: Path) -> None:
    path = write(tmp_path, f"""
[ui]
image_mode = "halfcell"
video_fps = 4
poll_seconds = 5
[media]
dir = "{tmp_path / 'media'}"
[worker]
stall_seconds = 10
pre_seconds = 1
post_seconds = 6
segment_seconds = 30
[events]
keep_hours = 48
""")
    s = load_settings(path)
    assert s.events_keep_hours == 48.0
    assert (s.image_mode, s.video_fps, s.poll_seconds) == ("halfcell", 4.0, 5.0)
    assert s.media_dir == tmp_path / "media"
    assert (s.stall_seconds, s.pre_seconds, s.post_seconds, s.segment_seconds) == (10.0, 1.0, 6.0, 30.0)


@pytest.mark.parametrize(("text", "names"), [
    ('[ui]\nimage_mode = "colour"', ["ui.image_mode", "'colour'", "halfcell", "off"]),
    ("[ui]\nvideo_fps = 0", ["ui.video_fps", "frames per second", "at most 30"]),
    ('[ui]\npoll_seconds = "often"', ["ui.poll_seconds", "number of seconds"]),
    ("[worker]\nsegment_seconds = -5", ["worker.segment_seconds", "above 0"]),
    ("[events]\nkeep_hours = 0", ["events.keep_hours", "number of hours", "above 0"]),
    ('[ui]\nbell = "yes"', ["ui.bell", "true or false"]),
    ('[site]\ntimezone = "Mars/Olympus"', ["site.timezone", "Europe/Paris"]),
    ("[ui\n", ["not valid TOML"]),
])
def test_bad_values_name_the_key_and_the_fix(tmp_path: Path, text: str, names: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    for part in names:
        assert part in str(err.value)


def test_lpr_server_and_action_keys(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[worker]\nname = " gate-1 "\nheartbeat_seconds = 0.5\nlog = "/var/log/imtui/w.log"\n'
                    '[actions.commands]\ngate = ["/usr/local/bin/open-gate", "--lane", "1"]\nlight = ["/bin/true"]\n')
    s = load_settings(path)
    assert (s.worker_name, s.heartbeat_seconds, str(s.worker_log)) == ("gate-1", 0.5, "/var/log/imtui/w.log")
    assert s.action_commands == {"gate": ("/usr/local/bin/open-gate", "--lane", "1"), "light": ("/bin/true",)}
    assert load_settings(tmp_path / "none.toml").action_commands == {}  # none unless the host's config says so
    for text, names in (
        ('[worker]\nname = ""\n', ["worker.name", "1 to 100 characters"]),
        ('[worker]\nheartbeat_seconds = 0\n', ["worker.heartbeat_seconds"]),
        ('[actions.commands]\ngate = "/bin/open gate"\n', ["actions.commands.gate", "list of strings"]),
        ('[actions.commands]\ngate = []\n', ["actions.commands.gate", "the program first"]),
        ('[actions]\ncommands = 3\n', ["actions.commands", "table"]),
    ):
        path.write_text(text)
        with pytest.raises(ConfigError) as caught:
            load_settings(path)
        assert all(n in str(caught.value) for n in names), caught.value
