"""How figures read on screen and in the CLI (no Textual here): the one formatting of memory sizes
and up times, shared by ``imtui worker status`` and the ``#lpr-servers`` screen."""

from __future__ import annotations


def memory_size(n: int) -> str:
    """Bytes as GiB with one decimal from 1 GiB, else whole MiB: ``1.5 GiB``, ``512 MiB``."""
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def up_time(seconds: float) -> str:
    """A duration as ``[D d ]HH:MM:SS``: ``01:02:03``, ``2 d 00:00:05``."""
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return (f"{days} d " if days else "") + f"{hours:02d}:{minutes:02d}:{secs:02d}"
