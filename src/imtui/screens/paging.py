"""Page turns that never outrun the rows shown (issue 14, #13).

Ten quick ``]`` used to append ten page starts computed from the page still shown while the
first load ran, so "Page 11" showed page 2's rows.  A paged screen now keeps one ``PageTurns``:
a key only counts a turn, a load starts only when none is in flight, and the load applies every
turn counted meanwhile (they coalesce: ``]]]`` then ``[`` is two pages on), one query at a time,
before it shows the last page it reached together with its number."""

from __future__ import annotations

from dataclasses import dataclass

from textual.worker import Worker


@dataclass
class PageTurns:
    pending: int = 0  # +1 per ``]``, -1 per ``[``, not yet applied
    loading: Worker | None = None  # the screen's page load, if one runs

    def press(self, step: int) -> bool:
        """Count a turn; True when no page load is in flight, so the caller starts one."""
        self.pending += step
        return self.loading is None or self.loading.is_finished

    def take(self) -> int:
        """The next turn to apply (+1 or -1), or 0 when none is left."""
        if not self.pending:
            return 0
        step = 1 if self.pending > 0 else -1
        self.pending -= step
        return step

    def drop(self) -> None:
        """Forget the turns left: past the last or first page, a new filter, a failed load."""
        self.pending = 0
