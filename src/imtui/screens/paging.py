"""Page turns that never outrun the rows shown (issue 14, #13).

Ten quick ``]`` used to append ten page starts computed from the page still shown while the
first load ran, so "Page 11" showed page 2's rows.  A paged screen now keeps one ``PageTurns``:
a key only counts a turn, a load starts only when none is in flight, and the load applies every
turn counted meanwhile (they coalesce: ``]]]`` then ``[`` is two pages on), one query at a time,
before it shows the last page it reached together with its number."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from textual.worker import Worker

P = TypeVar("P")  # a page
C = TypeVar("C")  # where a page starts (None: the first page)


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

    async def apply(self, page: P, starts: list[C | None], after: Callable[[P], C | None],
                    fetch: Callable[[C | None], Awaitable[P]]) -> P:
        """Apply the turns counted (also those pressed while this runs), one ``fetch`` at a time,
        from ``page`` (the one at ``starts[-1]``); ``after(page)`` is where the next page starts, or
        None on the last.  Returns the page reached; ``starts`` is updated in place."""
        while step := self.take():
            if step > 0 and (start := after(page)) is not None:
                starts.append(start)
            elif step < 0 and len(starts) > 1:
                starts.pop()
            else:
                self.drop()  # past the last or the first page
                break
            page = await fetch(starts[-1])
        return page
