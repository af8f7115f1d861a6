"""Visit drafts on their way to the service, kept until it acknowledges them.

The app, not the visit screen, holds them: a draft typed while the service is
away still reaches it once it is back, even if the agent has left the visit
meanwhile. Only the newest draft of each visit is kept, and one save is sent
at a time, so the service sees a visit's revisions in order (and it keeps the
newest anyway).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

if TYPE_CHECKING:
    from counter.domain.visits import VisitDraft

# A service that answered « unavailable » (its database): tried again after this.
RETRY_SECONDS = 2.0


class DraftSaving:
    """Mixed into the app: ``save_draft`` sends, resends when the service is back,
    and tells the screen (``draft_saved`` / ``draft_not_saved``) while it is there."""

    def _init_drafts(self) -> None:
        self._unsent: dict[int, tuple[VisitDraft, object]] = {}  # visit → (newest draft, its screen)
        self._draft_in_flight = False
        self._drafts_listening = False

    def save_draft(self, visit_id: int, draft: VisitDraft, screen=None) -> None:
        """Send ``draft`` (a copy the caller no longer changes); it replaces any older one unsent."""
        self._unsent[visit_id] = (draft, screen)
        if not self._drafts_listening and self.counter is not None:
            self._drafts_listening = True
            self.counter.connection.on_state(self._drafts_state)
        self.send_drafts()

    def draft_unsent(self, visit_id: int) -> bool:
        return visit_id in self._unsent

    def _drafts_state(self, up: bool) -> None:
        """The connection came back (called from whichever thread noticed)."""
        import threading

        if not up:
            return
        if threading.get_ident() == self._thread_id:
            self.send_drafts()
            return
        try:
            self.call_from_thread(self.send_drafts)
        except RuntimeError:  # the app is closing
            pass

    def send_drafts(self) -> None:
        if self._draft_in_flight or not self._unsent or self.counter is None:
            return
        visit_id, (draft, screen) = next(iter(self._unsent.items()))
        self._draft_in_flight = True
        self._send_draft(visit_id, draft, screen)

    @work(thread=True, group="draft-save", exit_on_error=False)
    def _send_draft(self, visit_id: int, draft: VisitDraft, screen) -> None:
        from counter.client.errors import Refused, ServiceUnavailable

        try:
            saved = self.counter.save_visit(visit_id, draft)
        except ServiceUnavailable:
            # Kept: sent again when the connection comes back (_drafts_state).
            self.call_from_thread(self._draft_failed, visit_id, screen, None)
            return
        except Refused as exc:
            self.call_from_thread(self._draft_failed, visit_id, screen, exc)
            return
        self.call_from_thread(self._draft_answered, visit_id, draft, screen, saved)

    def _draft_answered(self, visit_id: int, draft: VisitDraft, screen, saved) -> None:
        self._draft_in_flight = False
        if self._unsent.get(visit_id, (None,))[0] is draft:  # nothing newer typed meanwhile
            del self._unsent[visit_id]
        if screen is not None and screen.is_attached:
            screen.draft_saved(saved)
        self.send_drafts()

    def _draft_failed(self, visit_id: int, screen, refused) -> None:
        self._draft_in_flight = False
        if screen is not None and screen.is_attached:
            screen.draft_not_saved(refused)
        if refused is not None and refused.code == "unavailable":  # the service's database: soon again
            self.set_timer(RETRY_SECONDS, self.send_drafts)
        elif refused is not None:  # refused for good: the next change sends the draft again
            self._unsent.pop(visit_id, None)
        elif self.counter is not None and self.counter.connection.up:
            # Back before this failure was handled (no change of state to wait for).
            self.set_timer(RETRY_SECONDS, self.send_drafts)
