"""Trust at the counter: the idle lock, the PIN, the purpose of a consultation, the NIR."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import text
from textual.widgets import DataTable

from fixtures.agents import TEST_PIN
from screens.dossier import DossierScreen
from screens.household import HouseholdScreen
from screens.lock import LockScreen, PinSetup, PurposeScreen
from tests.pilot.helpers import screen_lines, started, status_text, type_text, unlock, until


def audit(store, action: str) -> list:
    with store.engine.connect() as c:
        return c.execute(text("SELECT agent, target_type, target_id, details FROM audit_entry WHERE action = :a "
                              "ORDER BY seq"), {"a": action}).all()


async def open_household(app, pilot, query: str = "delaunay jade 2024") -> HouseholdScreen:
    await type_text(pilot, query)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None, "household")
    return app.screen


async def test_the_idle_lock_hides_everything_until_the_pin(town_store, make_app):
    app = make_app(town_store)
    async with started(app, (80, 24)) as pilot:
        household = await open_household(app, pilot)
        assert any("DELAUNAY" in line for line in screen_lines(app))
        # Four minutes without a key: nothing happens; five: locked.
        assert not app.check_idle_lock(now=app.last_key_at + 4 * 60)
        assert not app.locked
        # A hair past five minutes: (t + 300) - t can come out just below 300 in floating point.
        assert app.check_idle_lock(now=app.last_key_at + 5 * 60 + 0.001)
        await until(pilot, lambda: isinstance(app.screen, LockScreen), "the lock screen")
        painted = "\n".join(screen_lines(app))
        assert "Poste verrouillé" in painted and "agent" in painted
        for hidden in ("DELAUNAY", "Jade", "F-01403", "Adresse", "NIR"):
            assert hidden not in painted
        assert not app.screen.query(DataTable)  # no widget of the household reachable
        await pilot.press("f4", "f3", "escape")  # the household's keys do nothing here
        assert isinstance(app.screen, LockScreen)
        await pilot.press("ctrl+p")  # nor does the palette
        assert isinstance(app.screen, LockScreen)
        await unlock(pilot)
        assert app.screen is household


async def test_ctrl_l_locks_and_wrong_pins_slow_down_and_are_audited(town_store, make_app):
    app = make_app(town_store)
    async with started(app, (80, 24)) as pilot:
        household = await open_household(app, pilot)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, LockScreen), "the lock screen")
        for attempt in range(3):
            await pilot.press(*"0000", "enter")
            await until(pilot, lambda: "Code incorrect" in status_text(app) and
                        len(audit(town_store, "unlock.failed")) == attempt + 1, f"failure {attempt + 1}")
        assert "Réessayez dans 5 s" in status_text(app)
        # The right PIN too soon is refused: the delay holds.
        await pilot.press(*TEST_PIN, "enter")
        await until(pilot, lambda: "Réessayez dans" in status_text(app) and "incorrect" not in status_text(app),
                    "the delay")
        assert app.locked
        failures = audit(town_store, "unlock.failed")
        assert [json.loads(f.details)["failures"] for f in failures] == [1, 2, 3]
        assert all(f.target_id == "agent" and TEST_PIN not in f.details for f in failures)
        service = app.local_service.service.core  # the lock's clock is the service's
        later = service.utc_now() + timedelta(seconds=6)
        service.utc_now = lambda: later
        await unlock(pilot)
        assert app.screen is household


async def test_a_draft_visit_survives_the_lock(town_store, make_app):
    from screens.visit import VisitScreen

    app = make_app(town_store, backends="training")
    async with started(app, (80, 24)) as pilot:
        await open_household(app, pilot)
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen) and app.screen.context is not None, "visit")
        visit = app.screen
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, LockScreen), "the lock screen")
        with town_store.engine.connect() as c:
            assert c.execute(text("SELECT state FROM visit WHERE id = :id"), {"id": visit.visit_id}).scalar() == "draft"
        assert visit in app.screen_stack  # kept under the lock
        await unlock(pilot)
        assert app.screen is visit


async def test_a_screen_a_worker_opens_while_locked_waits_for_the_unlock(town_store, make_app):
    app = make_app(town_store)
    async with started(app, (80, 24)) as pilot:
        household = await open_household(app, pilot)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, LockScreen), "the lock screen")
        household.start_visit(household.view.id)  # as if a worker finished now
        await app.workers.wait_for_complete([w for w in app.workers if w.group == "visit-start"])
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        await unlock(pilot)
        from screens.visit import VisitScreen

        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "the visit, after the unlock")


async def test_the_purpose_is_asked_once_per_visit_and_audited(town_store, make_app):
    app = make_app(town_store, backends="training", purpose=None)
    async with started(app, (80, 24)) as pilot:
        await open_household(app, pilot)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, PurposeScreen), "the purpose")
        await pilot.press("down", "enter")  # « Information de la famille »
        await until(pilot, lambda: isinstance(app.screen, DossierScreen), "the dossier")
        await until(pilot, lambda: audit(town_store, "dossier.consult"), "the consultation audited")
        [entry] = audit(town_store, "dossier.consult")
        details = json.loads(entry.details)
        assert details["purpose"] == "Information de la famille"
        assert "api_particulier.quotient_familial" in details["sources"]
        assert entry.target_type == "person" and "DELAUNAY" not in entry.details
        # The same family: another member's dossier opens without asking again.
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen), "the household")
        await pilot.press("down", "f3")
        await until(pilot, lambda: isinstance(app.screen, DossierScreen), "the second dossier")
        await until(pilot, lambda: len(audit(town_store, "dossier.consult")) == 2, "audited too")
        assert json.loads(audit(town_store, "dossier.consult")[1].details)["purpose"] == "Information de la famille"
        # The next family: asked again; Escape opens nothing.
        app.action_new_search()
        await pilot.pause()
        await open_household(app, pilot)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, PurposeScreen), "the purpose, asked again")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen), "back, nothing opened")
        assert len(audit(town_store, "dossier.consult")) == 2


async def test_the_nir_is_masked_and_n_reveals_it_for_a_while_audited(town_store, make_app):
    from counter.domain.nir import format_nir

    app = make_app(town_store)
    async with started(app, (100, 30)) as pilot:
        household = await open_household(app, pilot)
        index = next(i for i, m in enumerate(household.view.members) if m.nir)
        household.query_one("#members", DataTable).move_cursor(row=index)
        await pilot.pause()
        member = household._current()
        with town_store.engine.connect() as c:
            nir = c.execute(text("SELECT nir FROM person WHERE id = :id"), {"id": member.person.id}).scalar()
        full = format_nir(nir)
        painted = "\n".join(screen_lines(app))
        assert f"NIR : {full[:7]} •• ••• ••• ••" in painted and full not in painted
        assert nir not in str(household.view)  # not even in the screen's data
        await pilot.press("n")
        await until(pilot, lambda: full in "\n".join(screen_lines(app)), "the NIR shown")
        [entry] = audit(town_store, "nir.reveal")
        assert entry.target_id == str(member.person.id) and nir[:5] not in entry.details
        assert household._hide_timer is not None  # masked again after REVEAL_SECONDS
        household.hide_nir()
        await pilot.pause()
        assert full not in "\n".join(screen_lines(app))


async def test_the_audit_screen_is_for_supervisors_and_a_refusal_is_audited(town_store, make_app):
    from screens.audit import AuditScreen

    from fixtures.agents import give_role

    app = make_app(town_store, mode="production")  # its agent has the role « agent » in the agents table
    async with started(app, (80, 24)) as pilot:
        app.action_audit()
        await until(pilot, lambda: audit(town_store, "forbidden"), "the refusal audited")
        assert json.loads(audit(town_store, "forbidden")[0].details) == {"action": "audit.view", "role": "agent"}
        assert not isinstance(app.screen, AuditScreen)
        give_role(town_store, "agent", "supervisor")  # the service reads the role at each request
        app.action_audit()
        await until(pilot, lambda: isinstance(app.screen, AuditScreen), "the audit screen")
        assert "chaîne intacte" in status_text(app)


async def test_production_starts_locked_and_a_first_use_sets_the_pin(town_store, make_app):
    app = make_app(town_store, mode="production")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.pin_checked, "the PIN check")
        assert isinstance(app.screen, LockScreen)
    fresh = make_app(town_store, pin=False, agent="nouvelle")
    async with fresh.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: fresh.pin_checked, "the PIN check")
        assert isinstance(fresh.screen, PinSetup)
        await pilot.press(*"12", "enter")
        await until(pilot, lambda: "de 4 à 8 chiffres" in status_text(fresh), "the rule")
        await pilot.press("escape", *"1357", "enter", *"1358", "enter")
        await until(pilot, lambda: "diffèrent" in status_text(fresh), "the mismatch")
        await pilot.press(*"1357", "enter", *"1357", "enter")
        await until(pilot, lambda: not fresh.locked, "unlocked")
        from counter.services.lock import LockService

        assert LockService(town_store).unlock("nouvelle", "1357").ok
