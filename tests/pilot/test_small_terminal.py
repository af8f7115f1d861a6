"""Every screen at 80x24: nothing painted past the edge, and the footer names
the keys an agent needs on that screen (F9/F10 on the search screen too)."""

from __future__ import annotations

import time

import pytest

from tests.journeys import JOURNEYS, app_for
from tests.pilot.helpers import assert_layout_intact, screen_lines

# The keys each screen's footer must show at 80 columns, as painted.
ESSENTIAL = {
    "search_empty": ["f6 Famille", "f9 Inscr.", "f10 Envois", "^q Quitter", "^p Commandes"],
    "search_results": ["f2 Foyer", "f3 Dossier", "f4 Visite", "f9 Inscr.", "f10 Envois", "^q Quitter",
                       "^p Commandes"],
    "household": ["esc Retour", "f3 Dossier", "f4 Visite", "t Fin", "^q Quitter", "^p Commandes"],
    "household_young_children": ["esc Retour", "f3 Dossier", "f4 Visite"],
    "dossier": ["esc Retour", "r Actualiser", "^r Tout actualiser", "m Corriger", "^p Commandes"],
    "corrections": ["esc Annuler"],
    "address_picker": ["^s Enregistrer", "esc Annuler"],
    "visit": ["e École", "c Crèche", "b Biblio.", "^s Valider", "^d Abandon", "esc Retour", "^p Commandes"],
    "school_form": ["^s Enregistrer", "esc Annuler"],
    "creche_form": ["^s Enregistrer", "esc Annuler"],
    "library_form": ["^s Enregistrer", "esc Annuler"],
    "summary": ["Confirmer", "esc Revenir"],
    "receipt": ["p Imprimer", "esc Terminer"],
    "declare_qf": ["Valider", "esc Annuler"],
    "registrations": ["esc Retour", "f2 Détail", "a Annuler", "r Récépissé", "p Réimprimer"],
    "cancel_dialog": ["esc Revenir"],
    "stored_receipt": ["p Réimprimer", "esc Retour"],
    "outbox": ["esc Retour", "t Tous", "p En attente", "r Refusés", "e Réessayer"],
    "new_family": ["f2 Ajouter membre", "^s Créer le foyer", "esc Annuler", "^p Commandes"],
    "member_form": ["^s Enregistrer", "esc Annuler"],
    "likely_duplicates": ["m C'est la même personne", "d Personne différente", "esc Revenir"],
    "queue": ["t Ticket", "a Appeler", "n Ce n°", "f Terminer", "x Parti", "esc Retour"],
    "issue_ticket": ["b Besoin", "r RDV", "Émettre", "esc Annuler"],
    "end_visit": ["r Réglé", "o Orienté", "p Papiers", "Enregistrer", "esc Plus tard"],
}


@pytest.fixture(autouse=True)
def utc_clock(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_every_screen_is_listed():
    assert set(ESSENTIAL) == set(JOURNEYS)


@pytest.mark.parametrize("name", list(ESSENTIAL))
async def test_the_footer_at_80x24_shows_the_keys_of_the_screen(town_store, make_app, name):
    journey = JOURNEYS[name]
    app = app_for(journey, make_app, town_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await journey.build(town_store)(pilot)
        lines = assert_layout_intact(app)
        footer = screen_lines(app)[-1]
        missing = [key for key in ESSENTIAL[name] if key not in footer]
        assert not missing, f"{name}: {missing} not in the footer {footer!r}"
        # The header (title) and the bottom line are both on screen: nothing pushed out.
        assert "Guichet unique" in lines[0] or name in ("corrections", "summary", "declare_qf", "cancel_dialog",
                                                         "school_form", "creche_form", "library_form",
                                                         "member_form", "likely_duplicates", "issue_ticket",
                                                         "end_visit")
