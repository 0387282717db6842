"""Failed workers reach the operator and ``imtui.log``: one handler for the whole app.

Every ``@work`` in imtui runs with ``exit_on_error=False`` (a failed load must not close a control
room's app), so an exception a worker does not catch would leave its screen silently empty.
Textual posts ``Worker.StateChanged`` to the node that started the worker and does not bubble it
(``bubble=False`` in textual/worker.py), so an ``on_worker_state_changed`` on the App only hears
the App's own workers.  Every worker of every screen, dialog and widget is added to the app's one
WorkerManager, though, and the manager hears each worker end: this subclass reports the failures
there, once, whoever started the worker.

Refusals a screen already shows (a ``ServiceError`` caught in the worker) never get here: the
worker ends in SUCCESS.  A ``ServiceError`` nobody caught is told in its own (manual) words; any
other exception in the manual's "try again later" words, never with its text, which may be a
driver's.  The traceback goes to the log.  A worker that keeps failing (a poll every two seconds)
is told and logged in full once a minute, and counted in between, so neither the screen nor the
log is flooded.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from textual.worker import Worker, WorkerState
from textual.worker_manager import WorkerManager

from imtui.engine.errors import ServiceError
from imtui.i18n import _
from imtui.screens.render import tell

if TYPE_CHECKING:
    from textual.app import App

log = logging.getLogger(__name__)
REPEAT_SECONDS = 60.0  # the same worker failing again within this is counted, not told again


def failure_message(error: BaseException) -> str:
    """The operator's one line for a failed worker: a refusal's own words, else the manual's."""
    if isinstance(error, ServiceError):
        return error.message
    return _("Cannot perform this action. Try again later. "
             "If the problem persists, contact your system administrators.")


class ReportingWorkerManager(WorkerManager):
    """The app's WorkerManager; it tells and logs every worker that ends in ERROR."""

    def __init__(self, app: App[Any]) -> None:
        super().__init__(app)
        self._last: dict[tuple[str, str], tuple[float, int]] = {}  # (where, worker) -> (told at, repeats)

    def _remove_worker(self, worker: Worker[Any]) -> None:
        """Textual calls this (on the event loop) when a worker's task is done, in any state."""
        super()._remove_worker(worker)
        if worker.state is WorkerState.ERROR and not worker.exit_on_error and worker.error is not None:
            self.report(worker, worker.error)

    def report(self, worker: Worker[Any], error: BaseException) -> None:
        key = (type(worker.node).__name__, worker.name)
        now = time.monotonic()
        told_at, repeats = self._last.get(key, (float("-inf"), 0))
        if now - told_at < REPEAT_SECONDS:
            self._last[key] = (told_at, repeats + 1)
            log.warning("worker %s of %s failed again: %s", key[1], key[0], type(error).__name__)
            return
        self._last[key] = (now, 0)
        again = f" (and {repeats} times since it was last logged)" if repeats else ""
        log.error("worker %s of %s failed%s", key[1], key[0], again,
                  exc_info=(type(error), error, error.__traceback__))
        try:
            tell(self._app, failure_message(error), error=True)
        except Exception:  # noqa: BLE001 - the app may be closing; the log has it
            log.exception("could not tell the operator about the failed worker %s", key[1])
