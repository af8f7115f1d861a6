"""The issue's "Done when", by keyboard at 80x24, in training: one household, two
children (school and crèche) and the mother's library card in one visit,
confirmed once while the town's system and Koha are down, the receipt printed;
then the agencies come back and each registration arrives exactly once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import text

from counter.domain.rules import default_rules
from fixtures.emulators.city.app import CityApp
from fixtures.emulators.city.app import error_body as city_error_body
from fixtures.emulators.knobs import in_process_transport
from fixtures.emulators.koha.app import KohaApp
from fixtures.emulators.koha.app import error_body as koha_error_body
from fixtures.emulators.plugin import EmulatorContext
from fixtures.emulators.town_data import town_data
from registrations.creche.form import CrecheForm
from registrations.library.form import LibraryForm
from registrations.school.form import SchoolForm
from screens.household import HouseholdScreen
from screens.front_desk import EndVisit
from screens.receipt import ReceiptScreen
from screens.registrations import RegistrationsScreen
from screens.visit import ConfirmVisit, VisitScreen
from tests.pilot.helpers import started, status_text, type_text, until
from tests.pilot.test_visit import fill
from tests.pilot.test_visit_delivery import Switch, another_round, backend

# The COLLET household of the fictional town: Caroline JOLY (the mother, born
# 1992), Mathieu COLLET (the father), Louise (2024: PS in 2027-2028) and Anna
# (2025: crèche age, no application at the town yet).
HOUSEHOLD = 4329


def member(store, given: str) -> int:
    with store.engine.connect() as c:
        return c.execute(text(
            "SELECT p.id FROM person p JOIN household_member m ON m.person_id = p.id "
            "WHERE m.household_id = :h AND p.given_names LIKE :g"), {"h": HOUSEHOLD, "g": f"{given}%"}).scalar_one()


def fake_lp(folder: Path) -> Path:
    """An ``lp`` that records its arguments, as CUPS would take the job."""
    folder.mkdir()
    log = folder / "lp-args"
    lp = folder / "lp"
    lp.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> "{log}"\necho "request id is accueil-1 (1 file(s))"\n')
    lp.chmod(0o755)
    return log


async def test_done_when_two_children_and_the_mothers_card_arrive_once_after_the_agencies_return(
        town_store, make_app, tmp_path, monkeypatch):
    log = fake_lp(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    town = town_data()
    city_app, koha_app = CityApp(EmulatorContext(town=town)), KohaApp(EmulatorContext(town=town))
    city = Switch(in_process_transport(city_app.asgi(), None, city_error_body))
    koha = Switch(in_process_transport(koha_app.asgi(), None, koha_error_body))
    app = make_app(town_store, backends=[backend("city", city), backend("koha", koha)])
    service = app.local_service.service.core  # it prints, and relays the outbox
    service.runtime = replace(service.runtime, rules=replace(default_rules(), printer="accueil"))
    louise, anna, caroline = member(town_store, "Louise"), member(town_store, "Anna"), member(town_store, "Caroline")

    async with started(app, (80, 24)) as pilot:
        await type_text(pilot, "collet louise 2024")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None,
                    "household")
        assert app.screen.view.id == HOUSEHOLD
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen) and app.screen.context is not None, "visit")
        for key, form_type, values in (
            ("e", SchoolForm, {"#person": louise, "#canteen-lun": True}),
            ("c", CrecheForm, {"#person": anna, "#start": "01/09/2027", "#days": "4", "#hours": "32"}),
            ("b", LibraryForm, {"#person": caroline}),
        ):
            await pilot.press(key)
            await until(pilot, lambda form_type=form_type: isinstance(app.screen, form_type), "form")
            if form_type is CrecheForm:
                values["#choice1"] = app.screen.context.creches[0].id
                if app.screen.query("#resources"):  # the CAF is down too: resources as declared
                    values["#resources"] = "30000"
            await fill(pilot, app.screen, values)
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")
        assert len(app.screen.draft.requests) == 3

        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmVisit), "summary")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReceiptScreen), "receipt")  # at once, agencies down
        receipt = app.screen.receipt
        assert [(line.kind, line.state) for line in receipt.lines] == [
            ("school", "registered"), ("creche", "waiting_list"), ("library", "to_deliver")]
        assert receipt.lines[1].detail.startswith("rang provisoire ")
        assert receipt.lines[2].state_label == "à transmettre à la médiathèque" and not receipt.lines[2].detail
        await pilot.press("p")
        await until(pilot, lambda: "envoyé à l'imprimante « accueil »" in status_text(app), "printed")
        assert log.read_text().splitlines() == ["-d", "accueil", str(Path(app.screen.saved.pdf_path).absolute())]

        def outbox():
            with town_store.engine.connect() as c:
                return c.execute(text("SELECT state, attempts, idempotency_key FROM outbox ORDER BY id")).all()

        await until(pilot, lambda: all(row.attempts >= 1 for row in outbox()), "delivery attempts")
        assert [row.state for row in outbox()] == ["pending"] * 3

        city.down = koha.down = False
        with town_store.engine.connect() as c:  # the backoff would wait minutes
            c.execute(text("UPDATE outbox SET next_attempt_at = created_at"))
            c.commit()
        service.wake_outbox()
        await until(pilot, lambda: [row.state for row in outbox()] == ["delivered"] * 3, "deliveries")
        assert (await another_round(service)).total == 0  # another round: nothing is sent again

        # F9 shows the town's rank now that the town has the application.
        await pilot.press("escape")  # the visit's end is offered (issue 16): « plus tard »
        await until(pilot, lambda: isinstance(app.screen, EndVisit), "the visit's end")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, (ReceiptScreen, EndVisit)), "search")
        await app.push_screen(RegistrationsScreen(receipt.code))
        await until(pilot, lambda: isinstance(app.screen, RegistrationsScreen)
                    and len(app.screen._views) == 3, "the visit's registrations")
        application = next(v for v in app.screen._views if v.kind == "creche")
        assert application.town_rank is not None
        assert f"rang {application.town_rank} (mairie)" in " ".join(application.lines())

    keys = [row.idempotency_key for row in outbox()]
    assert city_app.received[keys[0]] == 1 and city_app.received[keys[1]] == 1
    assert len(city_app.registrations) == 2
    cards = [r for r in koha_app.all_rows() if r["surname"] == "JOLY" and r["firstname"] == "Caroline"
             and r["date_of_birth"] == "1992-12-16"]  # a homonym of the town has a card of her own
    assert len(cards) == 1 and koha_app.request_ids[keys[2]] <= 1
    with town_store.engine.connect() as c:
        rows = c.execute(text("SELECT kind, state, delivery FROM registration ORDER BY id")).all()
    assert [(r.kind, r.delivery) for r in rows] == [("school", "delivered"), ("creche", "delivered"),
                                                   ("library", "delivered")]
