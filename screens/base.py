"""What the counter's full screens share: the chrome around their body, and one way
for a worker's failed call to the service to reach the agent.

The chrome: the FORMATION banner in training, the header (title and sub-title made
safe), the screen's body, the footer. A screen declares ``SUB_TITLE`` and
``compose_body``; its status line (``StatusLine``) sits where its body puts it.

A worker that calls the service is declared with :func:`service_worker` instead
of ``@work(thread=True, ...)`` plus its own ``try``/``except``: a refusal, the
service gone, or a fault of ours becomes a French line on the screen's status
line (:func:`failure_message`), never a traceback.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TypeVar

from textual import work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from screens.widgets import SafeHeader, StatusLine, TrainingBanner

ResultType = TypeVar("ResultType")

# A sentinel: on the service gone, say ``failed`` with its reason (as for a refusal).
AS_FAILED = "as failed"
UNEXPECTED = "erreur inattendue"  # the details are in the log

_log = logging.getLogger("counter")


def failure_message(exc: BaseException, failed: str = "{reason}", unreachable: str | None = AS_FAILED) -> str | None:
    """French words for a call to the counter service that raised ``exc``.

    ``failed`` is a template: ``{reason}`` is the service's own French words for a
    refusal (``Refused``), « Service du guichet injoignable » when it did not answer,
    and « erreur inattendue … » for anything else (a fault of ours, logged here);
    ``{reason_lower}`` is the same with a lower-case first letter. ``unreachable``
    is said instead when the service did not answer: None says nothing (every
    status line already says the service is gone), AS_FAILED says ``failed``.
    """
    from counter.client.errors import Refused, ServiceUnavailable

    if isinstance(exc, ServiceUnavailable):
        if unreachable is None:
            return None
        if unreachable != AS_FAILED:
            return unreachable
        reason = str(exc)
    elif isinstance(exc, Refused):
        reason = exc.problem.message
    else:
        _log.error("a call to the counter service failed", exc_info=exc)
        reason = UNEXPECTED
    message = failed.format(reason=reason, reason_lower=reason[:1].lower() + reason[1:])
    return message[:1].upper() + message[1:]


def service_worker(*, group: str, failed: str = "{reason}", unreachable: str | None = AS_FAILED,
                   then: str | None = None, exclusive: bool = True):
    """A thread worker of a screen that calls the counter service.

    What the method raises is said on the screen's status line in French
    (:func:`failure_message` with ``failed`` and ``unreachable``); ``then`` names a
    method of the screen run afterwards on the app's thread with the exception
    (state to reset, a list to read again). The method itself carries on with
    ``self.app.call_from_thread`` for what succeeded.
    """

    def decorate(method: Callable) -> Callable:
        @functools.wraps(method)
        def run(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 — every failure is said in French, none is raised
                message = failure_message(exc, failed, unreachable)
                try:
                    self.app.call_from_thread(self.worker_failed, exc, message, then)
                except RuntimeError:  # the app is closing
                    pass
                return None

        return work(thread=True, exclusive=exclusive, group=group, exit_on_error=False)(run)

    return decorate


class WorkerFailures:
    """The screen's side of :func:`service_worker` (a mixin for screens and modals)."""

    def say(self, message: str, *, error: bool = False) -> None:
        """On the screen's status line (if it has one)."""
        found = self.query(StatusLine)
        if found:
            found.first().say(message, error=error)

    def worker_failed(self, exc: BaseException, message: str | None, then: str | None = None) -> None:
        if message:
            self.say(message, error=True)
        if then is not None:
            getattr(self, then)(exc)


class CounterScreen(WorkerFailures, Screen[ResultType]):
    """A full screen of the counter: banner, header, the screen's body, footer."""

    FOOTER: type[Footer] = Footer

    def compose(self) -> ComposeResult:
        if self.app.training:
            yield TrainingBanner()
        yield SafeHeader(icon="≡")
        yield from self.compose_body()
        yield self.FOOTER(compact=True)

    def compose_body(self) -> ComposeResult:
        """The widgets between the header and the footer."""
        raise NotImplementedError
