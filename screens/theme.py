"""Theme choice: a 16-colour ANSI theme for the Linux console and small terminals."""

from __future__ import annotations

from collections.abc import Mapping

CONSOLE_THEME = "ansi-dark"
DEFAULT_THEME = "textual-dark"
_FEW_COLOUR_TERMS = ("linux", "vt100", "vt102", "vt220", "xterm", "screen", "ansi", "cons25")


def few_colours(env: Mapping[str, str]) -> bool:
    """True when the terminal reports 16 colours or fewer."""
    if env.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return False
    system = env.get("TEXTUAL_COLOR_SYSTEM", "").lower()
    if system in ("standard", "windows"):
        return True
    if system in ("256", "truecolor"):
        return False
    term = env.get("TERM", "").lower()
    return term in _FEW_COLOUR_TERMS or term.startswith("linux")


def choose_theme(setting: str, env: Mapping[str, str]) -> str:
    """The Textual theme for a configured ``ui.theme`` value."""
    if setting == "console":
        return CONSOLE_THEME
    if setting in ("textual-dark", "textual-light"):
        return setting
    return CONSOLE_THEME if few_colours(env) else DEFAULT_THEME
