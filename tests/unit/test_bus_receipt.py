"""A visit confirmed on the roaming bus (docs/tour.md): its receipt says that the
requests holding places or ranks (school, crèche, accueil de loisirs) are
provisional until the town's database takes them — on a bus only, online or not."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from counter.domain.receipt import bus_provisional_note, render_text
from counter.domain.visit_summary import receipt_of
from counter.domain.visits import RegState
from registrations.creche.kind import CrecheRequest
from registrations.library.kind import LibraryRequest
from registrations.school.kind import SchoolRequest

TODAY = date(2026, 11, 25)
SCHOOL = SchoolRequest(2, 2027, "CP", 1, 1)
CRECHE = CrecheRequest((1,), date(2027, 1, 4), 4, 32.0, person_id=3)
LIBRARY = LibraryRequest(1, "ADULTE")


def receipt(requests, bus: str = ""):
    outcomes = tuple(SimpleNamespace(request=r, state=RegState.REGISTERED, rank=None, note="") for r in requests)
    items = tuple(SimpleNamespace(who=f"Enfant {i}", what="", prices=(), papers=()) for i, _ in enumerate(requests))
    confirmation = SimpleNamespace(code="RCP-7K3M-Q2XD", outcomes=outcomes)
    context = SimpleNamespace(household="F-00441", address=None)
    return receipt_of(confirmation, SimpleNamespace(items=items), context, "Bellerive-sur-Loire", "agent",
                      TODAY, training=False, bus=bus)


def test_on_the_bus_requests_needing_a_place_are_provisional():
    made = receipt([LIBRARY, SCHOOL, CRECHE], bus="bus-1")
    note = ("Inscription provisoire (demandes 2 et 3) : confirmée au retour du bus en mairie ; si la place "
            "n'est plus libre, l'enfant est placé en liste d'attente et la famille est prévenue.")
    assert made.notes[0] == note
    text = " ".join(render_text(made).split())  # as printed, lines joined again
    assert "À noter" in text and note in text


def test_a_single_request_is_named_as_such_and_a_library_card_alone_is_not_provisional():
    assert receipt([SCHOOL], bus="bus-1").notes[0].startswith("Inscription provisoire (cette demande) :")
    assert receipt([LIBRARY], bus="bus-1").notes == ()


def test_at_the_town_hall_nothing_is_said():
    made = receipt([SCHOOL, CRECHE])
    assert made.notes == () and "provisoire (" not in render_text(made)


def test_the_requests_are_named_in_french():
    assert "(demande 2)" in bus_provisional_note([2], 3)
    assert "(demandes 1, 2 et 4)" in bus_provisional_note([1, 2, 4], 4)
