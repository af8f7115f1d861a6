"""The dossier by keyboard, on the fictional town and the emulated agencies."""

from __future__ import annotations

from counter.backend import Status
from counter.settings import EmulatorKnobs
from screens.dossier import DossierScreen, SectionPanel
from screens.household import HouseholdScreen
from tests.pilot.helpers import started, type_text, until


def panels(app) -> dict[str, SectionPanel]:
    return {f"{p.ref.source}.{p.ref.section}": p for p in app.screen.query(SectionPanel)}


def text_of(widget) -> str:
    return str(widget.render())


def answered(app, *, but: tuple[str, ...] = ()) -> bool:
    return isinstance(app.screen, DossierScreen) and all(
        p.answer is not None for key, p in panels(app).items() if key not in but
    )


async def open_dossier(app, pilot, query: str) -> None:
    await type_text(pilot, query)
    await pilot.press("f3")
    await until(pilot, lambda: isinstance(app.screen, DossierScreen), "dossier screen")


async def test_giraud_anne_shows_her_cnaf_quotient_and_the_disagreement(town_store, make_app):
    app = make_app(town_store, backends="training")
    async with started(app, (120, 40)) as pilot:
        await open_dossier(app, pilot, "giraud anne")
        await until(pilot, lambda: answered(app), "every section")
        qf = panels(app)["api_particulier.quotient_familial"]
        assert qf.answer.provenance.status is Status.OK
        assert "Quotient familial : 1200 (CNAF, juin 2023)" in text_of(qf)
        assert "✓ API Particulier · a répondu · au 01/06/2023" in text_of(qf)
        conflicts = text_of(app.screen.query_one("#conflicts"))
        assert "Adresse différente de celle de la mairie" in conflicts
        assert "AUBAGNE" in conflicts and "mairie : " in conflicts
        # The town's own sections answered too.
        assert panels(app)["koha.library_card"].answer is not None
        assert panels(app)["city.school"].answer.provenance.status is Status.NOT_APPLICABLE


async def test_with_the_caf_emulator_down_the_dossier_still_opens_at_once(town_store, make_app):
    app = make_app(town_store, backends="training", knobs={"api_particulier": EmulatorKnobs(down=True)})
    async with started(app, (80, 24)) as pilot:
        await open_dossier(app, pilot, "giraud anne")
        await until(pilot, lambda: answered(app), "every section")
        qf = panels(app)["api_particulier.quotient_familial"]
        assert qf.answer.provenance.status is Status.UNAVAILABLE
        assert "source indisponible" in text_of(qf) and "injoignable" in text_of(qf)
        assert panels(app)["koha.library_card"].answer.provenance.status in (Status.OK, Status.NOT_FOUND)
        assert not app.screen.query_one("#conflicts").display  # nothing to compare against


async def test_a_slow_source_delays_nothing_else_and_keys_still_work(town_store, make_app):
    slow = {"koha": EmulatorKnobs(latency_ms=60_000)}
    app = make_app(town_store, backends="training", knobs=slow)
    async with started(app, (80, 24)) as pilot:
        await open_dossier(app, pilot, "giraud anne")
        await until(pilot, lambda: answered(app, but=("koha.library_card",)), "the fast sections")
        library = panels(app)["koha.library_card"]
        assert library.answer is None and "en attente" in text_of(library)
        before = app.screen.focused
        await pilot.press("down")
        assert app.screen.focused is not before  # navigation does not wait for the slow source
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, DossierScreen), "back")


async def test_refresh_one_section_and_all(town_store, make_app):
    app = make_app(town_store, backends="training")
    async with started(app, (120, 40)) as pilot:
        await open_dossier(app, pilot, "giraud anne")
        await until(pilot, lambda: answered(app), "every section")
        qf = panels(app)["api_particulier.quotient_familial"]
        c2s = panels(app)["api_particulier.c2s"]
        library = panels(app)["koha.library_card"].answer
        qf.focus()
        first, first_c2s = qf.answer, c2s.answer
        await pilot.press("r")  # this section's source: every API Particulier section, not the library
        await until(pilot, lambda: qf.answer is not None and qf.answer is not first
                    and c2s.answer is not None and c2s.answer is not first_c2s, "refreshed source")
        assert qf.answer.provenance.cached is False  # a refresh bypasses the cache
        assert panels(app)["koha.library_card"].answer is library
        await pilot.press("ctrl+r")
        await until(pilot, lambda: answered(app) and panels(app)["koha.library_card"].answer is not library,
                    "everything refreshed")


async def test_dossier_opens_from_a_household_member(town_store, make_app):
    app = make_app(town_store, backends="training")
    async with started(app, (80, 24)) as pilot:
        await type_text(pilot, "giraud anne")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None, "household")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DossierScreen), "dossier")
        assert app.screen.person_id == app.screen.app.screen.person_id
        await until(pilot, lambda: answered(app), "every section")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen), "back to the household")


async def test_the_agencys_address_is_taken_into_the_household_with_one_confirmation(town_store, make_app):
    from sqlalchemy import text

    from screens.corrections import ChooseCorrection
    from screens.visit import ConfirmVisit

    app = make_app(town_store, backends="training")
    async with started(app, (100, 30)) as pilot:
        await open_dossier(app, pilot, "giraud anne")
        await until(pilot, lambda: answered(app), "every section")
        assert app.screen.query_one("#conflicts").display
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, ChooseCorrection), "choices")
        await pilot.press("enter")  # the first: the CAF's address
        await until(pilot, lambda: isinstance(app.screen, ConfirmVisit), "confirmation")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DossierScreen)
                    and "mise à jour" in str(app.screen.query_one("#status").render()), "corrected")
        assert not app.screen.query_one("#conflicts").display  # nothing left to flag
    with town_store.engine.connect() as c:
        line = c.execute(text("SELECT a.line, a.postal_code FROM household h JOIN address a ON a.id = h.address_id "
                              "JOIN household_member m ON m.household_id = h.id JOIN person p ON p.id = m.person_id "
                              "WHERE p.birth_name = 'GIRAUD' AND p.given_names = 'Anne'")).one()
        # The household's change (the consultation and the PIN have entries of their own).
        audit = c.execute(text("SELECT action, details FROM audit_entry WHERE target_type = 'household'")).all()
    assert line.postal_code == "13400" and "JEAN JAUR" in line.line
    assert [a.action for a in audit] == ["household.address"] and "AUBAGNE" not in audit[0].details


async def test_a_trainers_file_of_knobs_alone_takes_one_default_agency_down(tmp_path, town_store):
    """docs/backends.md's trainer configuration, end to end: the file, the runtime, the app."""
    from dataclasses import replace

    from counter.app_factory import build_app

    from counter.service.composition import make_services
    from counter.clock import FixedClock
    from counter.runtime import resolve
    from tests.conftest import TODAY

    path = tmp_path / "formation.toml"
    path.write_text('mode = "training"\n\n[emulators.api_particulier]\ndown = true\n', encoding="utf-8")
    runtime = replace(resolve(str(path)), clock=FixedClock(TODAY))
    assert runtime.training and runtime.backends is None  # the training defaults, knobs applied
    # The app connects the agencies itself, from the runtime, as `counter --config` does.
    from fixtures.agents import preset_pin

    preset_pin(town_store, runtime.agent_login)
    app = build_app(runtime, make_services(town_store, runtime))
    app.purpose_preset = "Instruction d'une demande"
    async with started(app, (80, 24)) as pilot:
        await open_dossier(app, pilot, "giraud anne")
        await until(pilot, lambda: app.screen.panels and answered(app), "every section")
        by_source: dict[str, set[Status]] = {}
        for panel in panels(app).values():
            by_source.setdefault(panel.ref.source, set()).add(panel.answer.provenance.status)
        # Every section that calls the agency finds it down (France Travail needs an identifier she lacks).
        assert by_source["api_particulier"] == {Status.UNAVAILABLE, Status.NOT_APPLICABLE}
        assert "source indisponible" in text_of(panels(app)["api_particulier.quotient_familial"])
        assert set(by_source) == {"api_particulier", "koha", "city"}  # koha and city still asked
        assert Status.UNAVAILABLE not in by_source["koha"] | by_source["city"]


async def test_refreshing_inside_the_apis_wait_sends_nothing_and_says_so(town_store, make_app):
    """DESFOUIN René is the staging 429: `r` within the wait must not ask again."""
    from fixtures.emulators.plugin import emulated_transport
    from tests.backends.helpers import RECIPIENT, Clock, make_backend
    from tests.backends.test_api_particulier_emulator import Counting

    clock = Clock()  # 10 s into a minute; the 429 resets at its end
    transport = Counting(emulated_transport("api_particulier", clock=clock))
    app = make_app(town_store, backends=[make_backend("api_particulier", transport, clock=clock,
                                                      recipient=RECIPIENT)])
    async with started(app, (120, 40)) as pilot:
        await open_dossier(app, pilot, "desfouin")
        await until(pilot, lambda: app.screen.panels and answered(app), "every section")
        qf = panels(app)["api_particulier.quotient_familial"]
        assert qf.answer.provenance.status is Status.RATE_LIMITED
        assert text_of(qf).count("réessayer dans") == 1 and "réessayer dans 50 s" in text_of(qf)
        sent = len(transport.requests)
        clock.advance(10)
        qf.focus()
        await pilot.press("r")
        await until(pilot, lambda: qf.answer is not None and qf.answer.provenance.message.startswith(
            "Demande non envoyée"), "the held answer")
        await until(pilot, lambda: answered(app), "every section again")
        assert len(transport.requests) == sent
        assert text_of(qf).count("réessayer dans") == 1 and "réessayer dans 40 s" in text_of(qf)


class GatedBackend:
    """One section that answers when the test opens the gate."""

    name, kind, label, timeout = "gated", "test", "Source de test", 30.0

    def __init__(self) -> None:
        import asyncio

        self.gate = asyncio.Event()

    def sections(self):
        from counter.backend import SectionSpec

        return (SectionSpec("only", "Rubrique de test"),)

    async def fetch(self, section, subject, *, refresh=False):
        from datetime import UTC, datetime

        from counter.backend import Provenance, SectionAnswer

        await self.gate.wait()
        return SectionAnswer(Provenance(self.name, section, "Rubrique de test", Status.OK, datetime.now(UTC)))

    async def health(self):
        raise NotImplementedError

    async def aclose(self) -> None:
        pass


async def test_the_status_line_says_a_refresh_is_under_way_until_it_is_done(town_store, make_app):
    import asyncio

    from tests.pilot.helpers import status_text

    backend = GatedBackend()
    app = make_app(town_store, backends=[backend])
    async with started(app, (80, 24)) as pilot:
        await open_dossier(app, pilot, "giraud anne")
        await until(pilot, lambda: "Interrogation des sources…" in status_text(app), "asking")
        backend.gate.set()
        await until(pilot, lambda: status_text(app).strip() == "1 section reçue.", "the summary")
        for key, doing in (("r", "Actualisation : Source de test…"),
                           ("ctrl+r", "Actualisation de toutes les sources…")):
            backend.gate = asyncio.Event()
            await pilot.press(key)
            await until(pilot, lambda: doing in status_text(app), doing)
            assert "reçues" not in status_text(app)  # not the last summary while it is asked again
            backend.gate.set()
            await until(pilot, lambda: status_text(app).strip() == "1 section reçue.", f"done after {key}")


async def test_the_agencies_are_connected_while_the_agent_waits_for_a_family(town_store, tmp_path):
    """Started and left alone, the service connects the agencies: the first dossier will not wait."""
    from counter.app_factory import build_app
    from counter.service.composition import make_services
    from counter.clock import FixedClock
    from counter.runtime import Runtime
    from tests.conftest import TODAY

    runtime = Runtime(mode="training", data_dir=tmp_path,
                      database_url=str(town_store.url), clock=FixedClock(TODAY), agent_login="agent")
    from fixtures.agents import preset_pin

    preset_pin(town_store, "agent")
    app = build_app(runtime, make_services(town_store, runtime))  # no dossier yet: the service connects it
    app.purpose_preset = "Instruction d'une demande"
    core = app.local_service.service.core
    async with started(app, (80, 24)) as pilot:
        await until(pilot, lambda: core.agencies_ready, "the agencies, without a key pressed")
        assert set(core.services.dossier.backends) == {"api_particulier", "koha", "city"}

async def test_a_child_the_caf_knows_is_taken_into_the_household_with_one_confirmation(town_store, make_app):
    from sqlalchemy import text

    from counter.domain.merge import conflicts
    from screens.corrections import ChooseCorrection
    from screens.visit import ConfirmVisit

    # A test copy of the town whose DELAUNAY household has lost Lina: the CAF still knows her.
    with town_store.engine.begin() as c:
        lina = c.execute(text("SELECT p.id FROM person p JOIN household_member m ON m.person_id = p.id "
                              "WHERE m.household_id = 1403 AND p.given_names LIKE 'Lina%'")).scalar_one()
        c.execute(text("DELETE FROM household_member WHERE person_id = :p"), {"p": lina})
        c.execute(text("DELETE FROM person WHERE id = :p"), {"p": lina})
    app = make_app(town_store, backends="training")
    async with started(app, (80, 24)) as pilot:
        await open_dossier(app, pilot, "delaunay nicolas 28/07/1987")  # Lina's father
        await until(pilot, lambda: answered(app), "every section")
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, ChooseCorrection), "choices")
        choices = app.screen.conflicts
        index = next(i for i, c in enumerate(choices) if c.kind == "missing_child")
        await pilot.press(*["down"] * index, "enter")
        # Everything the town needs came from the CAF: one confirmation, no form to type.
        await until(pilot, lambda: isinstance(app.screen, ConfirmVisit), "confirmation")
        lines = "\n".join(app.screen.lines)
        assert "Lina Élisabeth Marguerite Louise DELAUNAY, née le 15/11/2025" in lines
        assert "France, commune à compléter" in lines
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DossierScreen)
                    and "Enfant ajouté au foyer" in str(app.screen.query_one("#status").render()), "added")
        assert "Commune de naissance à compléter" in str(app.screen.query_one("#status").render())
        assert not any(c.kind == "missing_child" for c in conflicts(app.screen.subject, app.screen._answers()))
    with town_store.engine.connect() as c:
        child = c.execute(text(
            "SELECT p.id, p.birth_name, p.given_names, p.sex, p.birth_year, p.birth_month, p.birth_day, "
            "p.birth_country_code, p.birth_insee_code, m.role FROM person p "
            "JOIN household_member m ON m.person_id = p.id WHERE m.household_id = 1403 AND p.given_names LIKE 'Lina%'"
        )).one()
        audit = c.execute(text("SELECT action, target_id, details FROM audit_entry "
                               "WHERE target_type = 'household'")).all()
    assert child[1:] == ("DELAUNAY", "Lina, Élisabeth, Marguerite, Louise", "F", 2025, 11, 15, "99100", None, "child")
    assert [(a.action, a.target_id) for a in audit] == [("household.add_member", "1403")]
    assert '"birthplace": "to_complete"' in audit[0].details and "Lina" not in audit[0].details


async def test_production_without_any_source_shows_the_towns_record_and_audits_the_consultation(town_store, tmp_path):
    """A production configuration with no [backends]: the agencies are connected
    (none), the purpose is asked as for any dossier, the consultation is audited
    with no source, and the dossier shows what the town knows, saying why."""
    import json

    from counter.app_factory import build_app

    from counter.service.composition import make_services
    from counter.clock import FixedClock
    from counter.runtime import Runtime
    from fixtures.agents import ensure_agent, preset_pin
    from screens.lock import PurposeScreen
    from tests.conftest import TODAY
    from tests.pilot.helpers import screen_lines, status_text
    from tests.pilot.test_trust import audit

    runtime = Runtime(mode="production", data_dir=tmp_path, database_url=str(town_store.url),
                      clock=FixedClock(TODAY), agent_login="agent", role="agent", backends={})
    preset_pin(town_store, "agent")
    ensure_agent(town_store, "agent")  # the service serves only the town's agents
    app = build_app(runtime, make_services(town_store, runtime))  # the dossier is attached as in production
    async with started(app, (80, 24)) as pilot:
        await type_text(pilot, "giraud anne")
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, PurposeScreen), "the purpose")
        await pilot.press("enter")  # « Instruction d'une demande »
        await until(pilot, lambda: isinstance(app.screen, DossierScreen), "the dossier")
        await until(pilot, lambda: audit(town_store, "dossier.consult"), "the consultation audited")
        [entry] = audit(town_store, "dossier.consult")
        assert json.loads(entry.details) == {"purpose": "Instruction d'une demande", "sources": []}
        assert app.local_service.service.core.services.dossier.backends == {}
        await until(pilot, lambda: "Interrogation" not in status_text(app), "the consultation done")
        assert "Aucune source n'est configurée" in status_text(app)
        painted = "\n".join(screen_lines(app))
        assert "Anne GIRAUD — née le 01/12/1988 · foyer F-00441" in painted
        assert "Dossier de la mairie" in painted
        assert "Adresse du foyer : 86 rue des Sablons, 45999 Bellerive-sur-Loire" in painted
        assert "• Enfant : Lea GIRAUD, née le 25/11/2018" in painted
        assert "Actualiser" not in painted and "Corriger" not in painted  # nothing to ask or compare
