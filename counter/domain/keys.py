"""The keys of the counter's screens, as a site may give them other keys: the
configuration's ``[keys]`` table maps a binding id (``search.open``) to a key
(``f5``, ``ctrl+o``, ``é``…). The service checks the table when it reads its
configuration (``check_keymap``, English messages for the administrator) and gives
it to the terminals with the session; the terminal hands it to Textual
(``App.set_keymap``).

``BINDINGS`` lists every binding that has an id, by the screen (or widget) that
declares it, with its own key; ``tests/unit/test_keymap.py`` holds it to the
screens' ``BINDINGS``. The app's bindings and a dropdown's are active on the
screens listed in ``SHARED``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from counter.domain.kinds import all_kinds

BINDINGS: dict[str, dict[str, str]] = {
    "app": {"app.quit": "ctrl+q", "app.palette": "ctrl+p", "app.retry": "f5", "app.scenario": "f1",
            "app.lock": "ctrl+l"},
    "dropdown": {"dropdown.close": "escape"},
    "search": {"search.clear": "escape", "search.results": "down", "search.open": "f2", "search.dossier": "f3",
               "search.visit": "f4", "search.new_family": "f6", "search.registrations": "f9",
               "search.outbox": "f10", "search.previous": "f7", "search.next": "f8", "search.queue": "f12",
               "search.statistics": "ctrl+t"},
    "household": {"household.back": "escape", "household.dossier": "f3", "household.visit": "f4",
                  "household.end": "t", "household.reveal_nir": "n"},
    "dossier": {"dossier.back": "escape", "dossier.refresh": "r", "dossier.refresh_all": "ctrl+r",
                "dossier.correct": "m"},
    # And one key per installed kind of registration, visit.<kind> (added below).
    "visit": {"visit.edit": "enter",
              "visit.remove": "delete", "visit.qf": "q", "visit.confirm": "ctrl+s", "visit.abandon": "ctrl+d",
              "visit.end": "t", "visit.back": "escape", "visit.quit": "ctrl+q"},
    "confirm": {"confirm.yes": "enter", "confirm.no": "escape"},
    "qf": {"qf.keep": "enter", "qf.cancel": "escape"},
    "form": {"form.save": "ctrl+s", "form.cancel": "escape"},
    "receipt": {"receipt.print": "p", "receipt.end": "m", "receipt.done": "escape"},
    # The front desk (screens/front_desk.py): the waiting list, a ticket, the end of a visit.
    "queue": {"queue.issue": "t", "queue.call": "a", "queue.call_selected": "n", "queue.end": "f", "queue.gone": "x",
              "queue.back": "escape", "queue.quit": "ctrl+q"},
    "ticket": {**{f"ticket.reason_{n}": str(n) for n in range(1, 10)}, "ticket.need": "b",
               "ticket.appointment": "r", "ticket.issue": "enter", "ticket.cancel": "escape"},
    "end_visit": {**{f"end_visit.reason_{n}": str(n) for n in range(1, 10)}, "end_visit.done": "r",
                  "end_visit.redirected": "o", "end_visit.come_back": "p", "end_visit.record": "enter",
                  "end_visit.cancel": "escape"},
    "registrations": {"registrations.back": "escape", "registrations.results": "down", "registrations.detail": "f2",
                      "registrations.cancel": "a", "registrations.receipt": "r", "registrations.reprint": "p"},
    "cancel_reason": {"cancel_reason.back": "escape"},
    "outbox": {"outbox.back": "escape", "outbox.all": "t", "outbox.pending": "p", "outbox.refused": "r",
               "outbox.retry": "e"},
    "audit": {"audit.back": "escape"},
    "statistics": {"statistics.back": "escape", "statistics.next": "v", "statistics.previous": "left",
                   "statistics.following": "right", "statistics.month": "m", "statistics.week": "s",
                   "statistics.year": "a", "statistics.dates": "p", "statistics.site": "l", "statistics.agent": "g",
                   **{f"statistics.chart{n}": str(n) for n in range(1, 10)},
                   "statistics.down": "down", "statistics.up": "up", "statistics.page_down": "pagedown",
                   "statistics.page_up": "pageup", "statistics.top": "home", "statistics.bottom": "end"},
    "stats_period": {"stats_period.apply": "enter", "stats_period.cancel": "escape"},
    "family": {"family.add": "f2", "family.remove": "delete", "family.create": "ctrl+s", "family.cancel": "escape",
               "family.quit": "ctrl+q"},
    "duplicates": {"duplicates.same": "m", "duplicates.different": "d", "duplicates.back": "escape"},
    "address": {"address.save": "ctrl+s", "address.cancel": "escape", "address.quit": "ctrl+q"},
    "correction": {"correction.cancel": "escape"},
    "lock": {"lock.escape": "escape"},
    "pin_setup": {"pin_setup.restart": "escape"},
    "purpose": {"purpose.cancel": "escape"},
    "scenario": {"scenario.close": "escape", "scenario.close_f1": "f1"},
}

# The visit's keys of the kinds of registration are the installed kinds' (plugins).
BINDINGS["visit"] = {**{f"visit.{k.id}": k.key for k in all_kinds()}, **BINDINGS["visit"]}

# The bindings active on every screen besides its own: the app's; a dropdown's where a screen has one.
SHARED: dict[str, tuple[str, ...]] = {
    "app": tuple(screen for screen in BINDINGS if screen not in ("app", "dropdown")),
    "dropdown": ("form", "family", "address"),
}

MODIFIERS = ("ctrl", "alt", "shift", "super", "hyper", "meta")
NAMED_KEYS = frozenset({
    "escape", "enter", "tab", "space", "backspace", "delete", "insert", "home", "end", "pageup", "pagedown",
    "up", "down", "left", "right", *(f"f{n}" for n in range(1, 25)),
})
# What Textual calls a few characters (the others: their Unicode name, lower case, "_" for spaces).
_CHARACTER_NAMES = {"/": "slash", "\\": "backslash", "@": "at", "-": "minus", "+": "plus", "_": "underscore"}
_NAMED_CHARACTERS = {name: char for char, name in _CHARACTER_NAMES.items()}
# Keys that most terminals send as another one.
SENT_AS = {"ctrl+m": "enter", "ctrl+j": "enter", "ctrl+i": "tab", "ctrl+h": "backspace",
           "ctrl+left_square_bracket": "escape"}


class KeymapError(ValueError):
    """A ``[keys]`` table that cannot be used (English, for the administrator)."""


def binding_ids() -> dict[str, str]:
    """Every binding id, with the screen (or widget) that declares it."""
    return {binding: screen for screen, bindings in BINDINGS.items() for binding in bindings}


def _character_key(char: str) -> str | None:
    if char.isalnum():
        return char
    if char in _CHARACTER_NAMES:
        return _CHARACTER_NAMES[char]
    if not char.isprintable() or char.isspace():
        return None
    try:
        return unicodedata.name(char).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return None


def _base_key(name: str) -> str | None:
    """The key's name as Textual reads it, or None when it is no key."""
    if len(name) == 1:
        return _character_key(name)
    if name in NAMED_KEYS or name in _NAMED_CHARACTERS:
        return name
    try:  # a character by its name: question_mark, full_stop, latin_small_letter_e_with_acute…
        char = unicodedata.lookup(name.replace("_", " "))
    except KeyError:
        return None
    return name if _character_key(char) == name else None


def key_name(key: str) -> str:
    """One key (``ctrl+o``, ``F5``, ``?``) as compared on a screen; KeymapError when it is none."""
    parts = key.strip().split("+")
    if any(not part for part in parts):
        raise KeymapError(f"{key!r} is not a key (a '+' key is written 'plus')")
    *modifiers, last = parts
    modifiers = [m.lower() for m in modifiers]
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            raise KeymapError(f"{key!r}: unknown modifier {modifier!r} (one of {', '.join(MODIFIERS)})")
    if len(set(modifiers)) != len(modifiers):
        raise KeymapError(f"{key!r}: a modifier is repeated")
    base = _base_key(last if len(last) == 1 else last.lower())
    if base is None:
        raise KeymapError(f"{key!r} is not a key name (e.g. f5, ctrl+o, escape, pageup, a, question_mark)")
    name = "+".join([*sorted(modifiers, key=MODIFIERS.index), base])
    if name in SENT_AS:
        raise KeymapError(f"{key!r}: most terminals send it as {SENT_AS[name]}; choose another key")
    return name


def keys_of(value: str) -> list[str]:
    """The keys of one binding: ``"f2"`` or several, ``"f2,ctrl+o"``."""
    names = [key_name(key) for key in value.split(",")]
    if len(set(names)) != len(names):
        raise KeymapError(f"{value!r}: a key is given twice")
    return names


def flatten(table: Mapping) -> dict[str, str]:
    """``[keys]`` as the file gives it — ``"search.open" = "f5"``, or ``search.open = "f5"``
    (TOML reads it as a table ``search``), or ``[keys.search]`` — as binding id -> keys."""
    flat: dict[str, str] = {}
    for name, value in table.items():
        if isinstance(value, Mapping):
            for inner, keys in value.items():
                flat[f"{name}.{inner}"] = keys
        else:
            flat[name] = value
    return flat


def check_keymap(table: Mapping) -> dict[str, str]:
    """The ``[keys]`` table checked strictly: binding id -> its keys as Textual names them
    (``F5`` -> ``f5``, ``?`` -> ``question_mark``). KeymapError
    names the first problem: a binding id unknown, a value that is no key, or a key
    bound twice on one screen (unless both bindings keep the keys they come with:
    Escape closes a form's open list first, then the form)."""
    keymap = flatten(table)
    known = binding_ids()
    chosen: dict[str, list[str]] = {}
    for binding, value in keymap.items():
        if binding not in known:
            raise KeymapError(f"unknown binding id {binding[:80]!r} (the ids are listed in docs/administration.md)")
        if not isinstance(value, str):
            raise KeymapError(f"{binding}: a key is a string, e.g. \"f5\" or \"ctrl+o\"")
        try:
            chosen[binding] = keys_of(value)
        except KeymapError as exc:
            raise KeymapError(f"{binding}: {exc}") from None
    for screen, own in BINDINGS.items():
        if screen in SHARED:
            continue
        active = dict(own)
        for part, screens in SHARED.items():
            if screen in screens:
                active.update(BINDINGS[part])
        by_key: dict[str, str] = {}
        moved = {b for b, default in active.items() if b in chosen and chosen[b] != [key_name(default)]}
        for binding, default in active.items():
            for key in chosen.get(binding) or [key_name(default)]:
                other = by_key.get(key)
                if other is not None and (binding in moved or other in moved):
                    raise KeymapError(f"{key!r} is bound twice on the {screen} screen: {other} and {binding}")
                by_key.setdefault(key, binding)
    return {binding: ",".join(keys) for binding, keys in chosen.items()}
