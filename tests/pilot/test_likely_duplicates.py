"""F6 with a member the town already knows: the agent sees the candidate and chooses, by keyboard."""

from __future__ import annotations

import json

from sqlalchemy import text

from screens.household import HouseholdScreen
from screens.likely_duplicates import LikelyDuplicatesModal
from screens.new_family import NewFamilyScreen
from screens.search import SearchScreen
from tests.pilot.helpers import started, status_text, until
from tests.pilot.test_new_family import add_member, member_keys, open_screen


def known_parent(store, skip: int = 0):
    """A parent of the town born in France on a known day, with plain ASCII names (typed key by key);
    ``skip``: the next ones, each from another household."""
    with store.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT p.id, p.birth_name, p.given_names, p.sex, p.birth_year, p.birth_month, p.birth_day, "
            "p.birth_insee_code, m.household_id FROM person p JOIN household_member m ON m.person_id = p.id "
            "WHERE m.role = 'parent' AND p.birth_day IS NOT NULL AND p.birth_insee_code IS NOT NULL "
            "AND p.usage_name IS NULL ORDER BY p.id LIMIT 200")).all()
    found, households = [], set()
    for r in rows:
        first = r.given_names.split(",")[0]
        if r.birth_name.isascii() and r.birth_name.isalpha() and first.isascii() and first.isalpha() \
                and r.household_id not in households:
            found.append(r)
            households.add(r.household_id)
    return found[skip]


async def type_family_with(app, pilot, known, results, *more):
    screen = await open_screen(app, pilot, results)
    await pilot.press(*"louis-pasteur", "enter", *"7")
    await until(pilot, lambda: screen.street_id is not None, "street chosen")
    for count, someone in enumerate((known, *more), start=1):
        born = f"{someone.birth_day:02d}/{someone.birth_month:02d}/{someone.birth_year}"
        first = someone.given_names.split(",")[0]
        # The form proposes a child once a parent is listed: another adult is an other guardian (↓).
        await add_member(app, pilot, member_keys(0 if count == 1 else 1, someone.birth_name.lower(), first.lower(),
                                                 someone.sex.lower(), born, "99100", someone.birth_insee_code))
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen) and len(screen.members) == count,
                    "member")
    await pilot.press("ctrl+s")
    await until(pilot, lambda: isinstance(app.screen, LikelyDuplicatesModal), "the likely duplicates")
    return screen


def _counts(store) -> tuple[int, int]:
    with store.engine.connect() as connection:
        return (connection.execute(text("SELECT count(*) FROM household")).scalar(),
                connection.execute(text("SELECT count(*) FROM person")).scalar())


async def test_the_same_person_opens_the_known_household_and_writes_nothing(town_store, make_app):
    known = known_parent(town_store)
    before = _counts(town_store)
    app = make_app(town_store)
    results: list = []
    async with started(app, (80, 24)) as pilot:
        await type_family_with(app, pilot, known, results)
        modal = app.screen
        assert [m.known.id for m in modal.matches] == [known.id]
        shown = str(modal.query_one("#candidates").render_line(0).text)
        assert "Membre n° 1 saisi" in shown
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None,
                    "the known household")
        assert app.screen.household_id == known.household_id
        assert results == [None]
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen), "back to the search")
    assert _counts(town_store) == before
    with town_store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM duplicate_review")).scalar() == 0


async def test_a_different_person_writes_the_family_and_audits_the_decision(town_store, make_app):
    known = known_parent(town_store)
    households, persons = _counts(town_store)
    app = make_app(town_store)
    results: list = []
    async with started(app, (80, 24)) as pilot:
        await type_family_with(app, pilot, known, results)
        await pilot.press("escape")  # back to the form first: nothing written
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen), "the form again")
        assert "Foyer non enregistré" in status_text(app)
        assert _counts(town_store) == (households, persons)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, LikelyDuplicatesModal), "the likely duplicates again")
        await pilot.press("d")
        await until(pilot, lambda: results, "the new household")
    household = results[0]
    assert isinstance(household, int)
    assert _counts(town_store) == (households + 1, persons + 1)
    with town_store.engine.connect() as connection:
        new_person = connection.execute(text("SELECT person_id FROM household_member WHERE household_id = :h"),
                                        {"h": household}).scalar_one()
        assert connection.execute(text(
            "SELECT person_id, candidate_id, reasons, source, state, decided_by FROM duplicate_review")).all() == [
            (new_person, known.id, "name_birth", "counter", "dismissed", "agent")]
        entry = connection.execute(text("SELECT agent, target_type, target_id, details FROM audit_entry "
                                        "WHERE action = 'duplicate.distinct'")).one()
    assert entry[:3] == ("agent", "household", str(household))
    assert json.loads(entry.details) == {
        "pairs": [{"person": new_person, "candidate": known.id, "reasons": ["name_birth"]}]}


async def test_two_members_known_the_agent_picks_whose_household_opens(town_store, make_app):
    first, second = known_parent(town_store), known_parent(town_store, skip=1)
    app = make_app(town_store)
    results: list = []
    async with started(app, (80, 24)) as pilot:
        await type_family_with(app, pilot, first, results, second)
        modal = app.screen
        assert [(m.member_index, m.known.id) for m in modal.matches] == [(0, first.id), (1, second.id)]
        assert "2 personnes déjà connues ?" in str(modal.query_one("#duplicates-title").render())
        await pilot.press("down", "m")
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None,
                    "the second one's household")
        assert app.screen.household_id == second.household_id


def test_names_are_plain_text_and_cut_to_the_box():
    from counter.domain.dates import BirthDate
    from counter.domain.duplicate_views import DuplicateMatch
    from counter.domain.people import AddressView, PersonSummary
    from screens.likely_duplicates import candidate_lines
    from screens.widgets import lines_of

    known = PersonSummary(id=7, birth_name="[bold]EVIL\x1b[2J", usage_name=None, given_names=("Ann" * 40,),
                          sex="F", birth=BirthDate(1980, 6), household_id=12,
                          address=AddressView(number=3, street="rue des Lilas", postal_code="45999", city="B"))
    lines = candidate_lines(DuplicateMatch(0, known, ("nir",)), "EVIL Ann")
    rendered = lines_of(lines)
    assert rendered.spans == []  # nothing read as markup
    assert "[bold]EVIL\ufffd[2J" in rendered.plain and "\x1b" not in rendered.plain
    assert all(len(line) <= 72 for line in rendered.plain.splitlines())
    assert rendered.plain.splitlines()[2:] == ["  née le --/06/1980 · Foyer F-00012 · 3 rue des Lilas",
                                               "  Pourquoi : même NIR"]
