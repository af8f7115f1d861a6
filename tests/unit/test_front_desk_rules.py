"""The front desk's pure rules: what a ticket and a visit's end accept, the printed
ticket and the waiting room's screen (numbers and desks, never a name)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from counter.config import ConfigError
from counter.domain.front_desk import (DisplayView, FrontDesk, TicketView, VisitEnd, big_number, check_end,
                                       check_ticket, display_lines, ticket_lines)

DESK = FrontDesk(queue=True, desks=(("mdupont", "Guichet 2"),))


def test_what_a_ticket_and_an_end_accept():
    assert check_ticket(DESK, ("caf",), "lsf") is None
    assert "au moins un motif" in check_ticket(DESK, (), None)
    assert "Besoin inconnu" in check_ticket(DESK, ("caf",), "\x1b[2J")
    assert check_end(DESK, VisitEnd(("caf", "qf"), "redirected", "ccas")) is None
    assert check_end(DESK, VisitEnd(("caf",), "done")) is None
    assert "orientée" in check_end(DESK, VisitEnd(("caf",), "redirected", "nulle-part"))
    assert "Seule une orientation" in check_end(DESK, VisitEnd(("caf",), "come_back", "caf"))


def test_big_digits_are_five_lines_of_equal_width():
    rows = big_number(1207)
    assert len(rows) == 5 and len({len(r) for r in rows}) == 1 and len(rows[0]) == 4 * 5 + 3


def test_the_room_screen_fits_and_names_desks_only():
    view = DisplayView("mairie", ((12, DESK.public_desk("mdupont")), (11, DESK.public_desk("jmartin"))), 3)
    lines = display_lines(view, 80, 24)
    assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
    text = "\n".join(lines)
    assert "Ticket 12 → Guichet 2" in text and "Ticket   11 → Guichet" in text
    assert "jmartin" not in text and "mdupont" not in text
    assert lines[-1] == "3 personnes attendent."
    assert "Aucun ticket appelé" in "\n".join(display_lines(DisplayView("mairie", (), 0), 40, 12))


def test_the_public_never_reads_an_agents_login():
    """A desk the site names is shown; otherwise « Guichet », with or without [queue] desks."""
    assert DESK.public_desk("mdupont") == "Guichet 2"
    for desk in (DESK, FrontDesk(queue=True)):
        assert [desk.public_desk(login) for login in ("jmartin", "", None)] == ["Guichet"] * 3
    assert FrontDesk(desks=(("mdupont", ""),)).public_desk("mdupont") == "Guichet"
    assert DESK.desk_of("jmartin") == "jmartin"  # the agents' own list still says who called


def test_the_printed_ticket():
    ticket = TicketView(1, 7, ("caf",), "interprete", True, "waiting", datetime(2026, 11, 25, 9, 5, tzinfo=UTC), 0)
    text = "\n".join(ticket_lines("Bellerive-sur-Loire", DESK, ticket, training=True))
    assert "N° 7 — 25/11/2026" in text and "Motif : CAF" in text and "Besoin : Interprète" in text
    assert "Sur rendez-vous" in text and "FORMATION" in text


def test_queue_desks_are_checked(tmp_path):
    from counter.config import load_settings

    path = tmp_path / "counter.toml"
    path.write_text('mode = "training"\n[queue]\nenabled = true\ndesks = { "mdupont" = "Guichet\\u001b2" }\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError, match="desks"):
        load_settings(path)
    path.write_text('mode = "training"\n[queue]\nenabled = true\ndesks = { "mdupont" = "Guichet 2" }\n',
                    encoding="utf-8")
    desk = load_settings(path).front_desk()
    assert desk.queue and desk.desk_of("mdupont") == "Guichet 2" and desk.desk_of("x") == "x"
