"""Keys typed ahead of a change of screen reach the screen they were typed for.

Textual forwards a key to the widget focused when the app reads it, and drops
it when the screen in front has no focus yet (just pushed). So keys typed
ahead of a change of screen (a burst over SSH, a fast typist) went to the next
screen, or nowhere: at first start, a name typed at the search went into the
PIN field of the setup that opened over it. Here, in the app's own order:

- a key waits while the screen that is to take it is not settled: the screen
  in front still being built, a guard acting on the Enter just typed (its
  verdict decides which screen takes the next keys; the screen says so with
  ``settling``), or what the app adds (``keys_wait``);
- a key typed before a screen that covers typing (``covers_typing``) was shown
  (``shown_at``, monotonic seconds, as Textual stamps its events) is kept for
  the screen beneath, and given to it once that screen is in front again;
- Tab moves the focus before the next key is forwarded.

Quitting and retrying the database never wait.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input

# Actions of the app's own keys that act at once, even while keys wait.
AT_ONCE = frozenset({"quit", "retry_services"})


def covered_typing(screen, event: events.Key) -> bool:
    """True when ``event`` was typed before ``screen``, which covers typing, was shown."""
    if not getattr(screen, "covers_typing", False):
        return False
    shown_at = getattr(screen, "shown_at", None)
    return shown_at is None or event.time < shown_at


class TypeAhead:
    """A mixin for the App (before ``App`` in its bases)."""

    def _init_type_ahead(self) -> None:
        self._held: list[events.Key] = []  # waiting for the screen in front to settle
        self._parked: list[events.Key] = []  # for the screen beneath a guard that covers typing
        self._releasing = False

    async def on_event(self, event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            self.key_typed(event)
            if self._acts_at_once(event):
                await self._deliver(event)
            elif covered_typing(self.screen, event):
                self._parked.append(event)
            elif self._held or self._releasing or self.keys_wait():
                self._held.append(event)
                if not self.screen.is_mounted:
                    self.call_after_refresh(self.release_keys)
            else:
                await self._deliver(event)
            return
        await super().on_event(event)

    def key_typed(self, event: events.Key) -> None:
        """Every key the terminal sends, when it is read."""

    def keys_wait(self) -> bool:
        screen = self.screen
        return not screen.is_mounted or bool(getattr(screen, "settling", False))

    def unpark_keys(self) -> None:
        """The screen that covered typing is gone: what was typed before it comes first."""
        self._held[:0] = self._parked
        self._parked = []

    def park_keys(self) -> None:
        """A screen that covers typing comes in front: what waits is for the screen beneath."""
        self._parked.extend(self._held)
        self._held = []

    async def release_keys(self) -> None:
        """Give the keys that wait to the screen in front, once it is settled."""
        if self._releasing:
            return
        self._releasing = True
        try:
            while self._held and not self.keys_wait():
                await self._deliver(self._held.pop(0))
        finally:
            self._releasing = False
        if self._held and not self.screen.is_mounted:
            self.call_after_refresh(self.release_keys)

    def _acts_at_once(self, event: events.Key) -> bool:
        return any(b.action in AT_ONCE for b in self._bindings.key_to_bindings.get(event.key, ()))

    async def _deliver(self, event: events.Key) -> None:
        screen = self.screen
        # Textual moves the focus for Tab only after later keys were forwarded:
        # in a burst, "32<Tab>4" filled one field with "324".
        if event.key in ("tab", "shift+tab") and self._tab_moves_focus(event.key):
            event.stop()
            if event.key == "tab":
                screen.focus_next()
            else:
                screen.focus_previous()
            return
        if event.key == "enter" and hasattr(screen, "settling") and isinstance(screen.focused, Input):
            screen.settling = True  # a guard's code: the next keys wait for its verdict
        await super().on_event(event)

    def _tab_moves_focus(self, key: str) -> bool:
        """True unless a focused widget (or a container of it) binds Tab itself."""
        screen = self.screen
        focused = screen.focused
        if focused is None:
            return False
        for node in focused.ancestors_with_self:
            if node is screen:
                return True
            if key in node._bindings.key_to_bindings:
                return False
        return True
