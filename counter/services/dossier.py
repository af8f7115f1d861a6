"""The dossier: every enabled source asked at once, each under its own deadline.

``consult`` yields each section's answer the moment it arrives, so a screen
shows them progressively and a dead source delays nothing but itself.

One DossierService serves every agent of the counter service: it holds the
backends (their caches and rate limits); who asks comes with each call as an
audit Actor. ``consultation`` is what the service streams to a terminal: the
consultation audited with its purpose, then each answer with the disagreements
found so far (computed here: screens only show them).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import bindparam, text

from counter.backend import Backend, Identity, Provenance, SectionAnswer, SectionRef, Status, Subject
from counter.backend.deadlines import deadline
from counter.domain.dates import BirthDate
from counter.domain.dossier import DossierUpdate
from counter.domain.names import split_given_names
from counter.services.households import HouseholdService
from counter.store.engine import Store

__all__ = ["ConsultationRefused", "DossierService", "SectionRef"]

log = logging.getLogger("counter.dossier")

# A backend enforces its own deadline; this margin only catches one that does not.
DEADLINE_GRACE = 0.5
# Consultations remembered for their refreshes: thirty agents, a few dossiers each.
MAX_OPENINGS = 512


class ConsultationRefused(ValueError):
    """A consultation the counter does not make: the message is French, for the agent."""

    def __init__(self, message: str, english: str) -> None:
        super().__init__(message)
        self._english = english

    def english(self) -> str:
        return self._english


def _unknown_purpose(purpose: object) -> ConsultationRefused:
    return ConsultationRefused("Motif de consultation inconnu : choisir un motif dans la liste.",
                               f"not a consultation purpose: {purpose!r} (counter.domain.purposes)")


@dataclass
class _Opening:
    """One agent's consultation of one person, remembered for its refreshes."""

    login: str
    person_id: int
    audited: set[tuple[str, str]] = field(default_factory=set)  # the sections the audit names
    answers: dict[tuple[str, str], SectionAnswer] = field(default_factory=dict)  # the latest of each


# While the bus's link is down, an agency that could not be reached is said so,
# not as a generic failure (docs/tour.md).
UNREACHABLE = frozenset({Status.UNAVAILABLE, Status.TIMEOUT})
OFFLINE_MESSAGE = "Le bus est hors ligne : « r » pour réessayer quand la liaison revient."
# Answers shown as the agency gave them; any other status is the agency failing, and on
# the bus an answer taken along takes its place (kept_answers).
LIVE_ANSWERS = frozenset({Status.OK, Status.NOT_FOUND, Status.NOT_APPLICABLE})


class DossierService:
    def __init__(self, store: Store, backends: Sequence[Backend], clock,
                 offline: Callable[[], bool] | None = None,
                 kept_answers: Callable[[int, str, str], SectionAnswer | None] | None = None,
                 site: str = "") -> None:
        self.store = store
        self.site = site  # this counter's site, on each agency call recorded (the statistics)
        self.backends = {b.name: b for b in backends}
        self.clock = clock
        self.offline = offline or (lambda: False)  # the bus's link is down (counter.service.link)
        # The bus: (person id, source, section) -> the answer taken along for it, marked as
        # cached with the agency's date, or None (counter.services.tour_dossiers.stored_answer);
        # it answers a section whose agency fails.
        self.kept_answers = kept_answers
        self._openings: OrderedDict[str, _Opening] = OrderedDict()
        self._openings_lock = threading.Lock()  # consultations on the loop, comparisons in threads
        self._writing: set[asyncio.Future] = set()  # agency calls being recorded (_record_calls)

    def record_consultation(self, actor, person_id: int, refs: Sequence[SectionRef], purpose: str) -> None:
        """Audit one consultation: who, from which counter, whom, which sources, why (ids and codes only).
        Raises ConsultationRefused for a purpose off the list (nothing audited), Forbidden
        (audited) for a role that may not consult."""
        from counter.domain.purposes import is_known
        from counter.services import audit

        if not is_known(purpose):
            raise _unknown_purpose(purpose)
        audit.require(self.store, actor, "consult", "person", person_id)
        sources = sorted({f"{r.source}.{r.section}" for r in refs})
        audit.record(self.store, actor, "dossier.consult", "person", person_id,
                     {"purpose": purpose, "sources": sources})

    def record_tour_consultation(self, actor, person_id: int, refs: Sequence[SectionRef], bus: str) -> None:
        """Audit the town's own consultation of a person whose household has an appointment
        on a bus's tour (`counter tour prepare --appointments`): as an agent's consultation
        is (who — the account running the prepare —, from where, whom, which sources), with
        the purpose TOUR_PURPOSE and the bus. No agent's role is asked: the town's service
        account holds the agencies' credentials and runs it."""
        from counter.domain.purposes import TOUR_PURPOSE
        from counter.services import audit

        sources = sorted({f"{r.source}.{r.section}" for r in refs})
        audit.record(self.store, actor, "dossier.consult", "person", person_id,
                     {"purpose": TOUR_PURPOSE, "sources": sources, "bus": bus})

    def sections(self) -> list[SectionRef]:
        return [
            SectionRef(b.name, spec.key, spec.label, b.label)
            for b in self.backends.values()
            for spec in b.sections()
        ]

    def refs(self, keys: Iterable[tuple[str, str]] | None) -> list[SectionRef]:
        """The sections named (source, section), in the dossier's order; all when None.
        Raises ConsultationRefused for a section no source has."""
        every = self.sections()
        if keys is None:
            return every
        wanted = set(keys)
        unknown = wanted - {(r.source, r.section) for r in every}
        if unknown:
            names = ", ".join(sorted(f"{s}.{k}" for s, k in unknown))
            raise ConsultationRefused("Rubrique inconnue : les sources du guichet ont changé, rouvrez le dossier.",
                                      f"no such section: {names}")
        return [r for r in every if (r.source, r.section) in wanted]

    # -- the subject -------------------------------------------------------------

    def subject(self, person_id: int) -> Subject | None:
        """The person and their household's identities, read from the town's store."""
        with self.store.engine.connect() as connection:
            household_id = connection.execute(
                text("SELECT household_id FROM household_member WHERE person_id = :id ORDER BY id LIMIT 1"),
                {"id": person_id},
            ).scalar()
            ids = [person_id]
            roles = {person_id: None}
            if household_id is not None:
                rows = connection.execute(
                    text("SELECT person_id, role FROM household_member WHERE household_id = :h ORDER BY id"),
                    {"h": household_id},
                ).all()
                ids = [r.person_id for r in rows]
                roles = {r.person_id: r.role for r in rows}
            people = {
                row.id: row
                for row in connection.execute(
                    text(
                        "SELECT id, birth_name, usage_name, given_names, sex, birth_year, birth_month, "
                        "birth_day, birth_insee_code, birth_country_code, france_travail_id "
                        "FROM person WHERE id IN :ids"
                    ).bindparams(bindparam("ids", expanding=True)),
                    {"ids": [int(i) for i in ids]},
                )
            }
        if person_id not in people:
            return None
        household = HouseholdService(self.store).get(household_id) if household_id is not None else None
        identities = {pid: _identity(row) for pid, row in people.items()}
        return Subject(
            person_id=person_id,
            identity=identities[person_id],
            today=self.clock.today(),
            role=roles.get(person_id),
            household=household,
            members=tuple((roles[pid] or "other", identities[pid]) for pid in ids if pid in identities),
        )

    # -- asking ---------------------------------------------------------------------

    async def consult(
        self, subject: Subject, only: Sequence[SectionRef] | None = None, refresh: bool = False,
        purpose: str | None = None, actor=None,
    ) -> AsyncIterator[SectionAnswer]:
        """Every section's answer, in the order they arrive; with ``purpose``, the
        consultation is audited first for ``actor`` (and refused, audited, for a
        role that may not consult)."""
        refs = list(only) if only is not None else self.sections()
        if purpose is not None:
            if actor is None:
                raise ValueError("an audited consultation needs its actor")
            await asyncio.to_thread(self.record_consultation, actor, subject.person_id, refs, purpose)
        tasks = [asyncio.ensure_future(self._ask(ref, subject, refresh)) for ref in refs]
        answered: list[Provenance] = []
        try:
            for next_done in asyncio.as_completed(tasks):
                answer = await next_done
                answered.append(answer.provenance)
                yield answer
        finally:
            for task in tasks:
                task.cancel()
            if answered:
                self._record_calls(answered)

    def _record_calls(self, answers: list[Provenance]) -> None:
        """The agencies' answers of one consultation, for the statistics: one write of a
        few rows, in a thread once the last answer is sent (the agent never waits for it).
        Source, section, status, time — no person, no subject."""
        if self.store is None:  # a dossier without a store (tests of the fan-out)
            return
        rows = [{"at": p.fetched_at if not p.cached else datetime.now(UTC), "site": self.site,
                 "source": p.source[:60], "section": p.section[:60], "status": str(p.status)[:20],
                 "elapsed_ms": float(p.elapsed_ms), "cached": bool(p.cached)} for p in answers]
        try:
            written = asyncio.get_running_loop().run_in_executor(None, self._write_calls, rows)
        except RuntimeError:  # no loop (a command): written here
            self._write_calls(rows)
            return
        self._writing.add(written)
        written.add_done_callback(self._writing.discard)

    async def calls_written(self) -> None:
        """Wait for the agency calls being written (closing, tests)."""
        while self._writing:
            await asyncio.gather(*list(self._writing), return_exceptions=True)

    def _write_calls(self, rows: list[dict]) -> None:
        from sqlalchemy import insert

        from counter.store.models import AgencyCall

        try:
            with self.store.engine.begin() as connection:
                connection.execute(insert(AgencyCall.__table__), rows)
        except Exception as exc:  # noqa: BLE001 — a statistic lost never fails a dossier
            log.warning("agency calls not recorded: %s", type(exc).__name__)

    # -- for the counter service's terminals ------------------------------------------

    async def consultation(
        self, actor, person_id: int, purpose: str, keys: Iterable[tuple[str, str]] | None = None,
        refresh: bool = False, opening: str | None = None,
    ) -> AsyncIterator[DossierUpdate]:
        """What a terminal is sent: the subject, then each answer with the disagreements
        of every answer of this opening so far.

        Audited with ``purpose`` unless ``opening`` names this agent's consultation
        of this person whose audit already named these sections (a refresh).
        Raises LookupError for a person who no longer exists.
        """
        from counter.domain.purposes import is_known

        if not is_known(purpose):  # refused before anything is read, asked or audited
            raise _unknown_purpose(purpose)
        refs = self.refs(keys)
        subject = await asyncio.to_thread(self.subject, person_id)
        if subject is None:
            raise LookupError(person_id)
        keys_asked = {(r.source, r.section) for r in refs}
        opened = self._opening(opening, actor.login, person_id)
        if opened is None or not keys_asked <= opened[1].audited:
            await asyncio.to_thread(self.record_consultation, actor, person_id, refs, purpose)
            if opened is None:
                opened = self._open(actor.login, person_id)
            opened[1].audited |= keys_asked
        name, state = opened
        with self._openings_lock:  # asked again: their previous answers no longer count
            for key in keys_asked:
                state.answers.pop(key, None)
        yield DossierUpdate(name, subject=subject, conflicts=self._conflicts(subject, state))
        async for answer in self.consult(subject, refs, refresh):
            with self._openings_lock:
                state.answers[(answer.provenance.source, answer.provenance.section)] = answer
            yield DossierUpdate(name, answer=answer, conflicts=self._conflicts(subject, state))

    def compare(self, actor, opening: str) -> DossierUpdate | None:
        """The subject as the town records it now and its disagreements with the
        answers already received (after the agent corrected the town's record);
        None for an opening this agent does not have (any more)."""
        with self._openings_lock:
            state = self._openings.get(opening)
        if state is None or state.login != actor.login:
            return None
        subject = self.subject(state.person_id)
        if subject is None:
            raise LookupError(state.person_id)
        return DossierUpdate(opening, subject=subject, conflicts=self._conflicts(subject, state))

    def _opening(self, name: str | None, login: str, person_id: int) -> tuple[str, _Opening] | None:
        with self._openings_lock:
            state = self._openings.get(name) if name else None
            if state is None or state.login != login or state.person_id != person_id:
                return None
            self._openings.move_to_end(name)
            return name, state

    def _open(self, login: str, person_id: int) -> tuple[str, _Opening]:
        name, state = secrets.token_urlsafe(12), _Opening(login, person_id)
        with self._openings_lock:
            self._openings[name] = state
            while len(self._openings) > MAX_OPENINGS:
                self._openings.popitem(last=False)
        return name, state

    def _conflicts(self, subject: Subject, state: _Opening) -> tuple:
        from counter.domain.merge import conflicts

        with self._openings_lock:
            answers = list(state.answers.values())
        return tuple(conflicts(subject, answers))

    async def _ask(self, ref: SectionRef, subject: Subject, refresh: bool) -> SectionAnswer:
        answer = await self._fetch(ref, subject, refresh)
        provenance = answer.provenance
        if self.kept_answers is not None and provenance.status not in LIVE_ANSWERS:
            kept = await asyncio.to_thread(self.kept_answers, subject.person_id, ref.source, ref.section)
            if kept is not None:
                return kept
        if provenance.status in UNREACHABLE and not provenance.cached and self.offline():
            return SectionAnswer(replace(provenance, offline=True, message=OFFLINE_MESSAGE), answer.facts)
        return answer

    async def _fetch(self, ref: SectionRef, subject: Subject, refresh: bool) -> SectionAnswer:
        backend = self.backends[ref.source]
        started = datetime.now(UTC)
        try:
            # Not counting the time in line behind a credential's rate limit (counter.backend.deadlines).
            async with deadline(backend.timeout + DEADLINE_GRACE):
                return await backend.fetch(ref.section, subject, refresh=refresh)
        except TimeoutError:
            status, message = Status.TIMEOUT, f"Pas de réponse en {backend.timeout:g} s."
        except Exception:  # noqa: BLE001 — a plugin's bug stays in its own section
            log.exception("backend %s raised on section %s", ref.source, ref.section)
            status, message = Status.BAD_RESPONSE, "Réponse inattendue de la source."
        elapsed = (datetime.now(UTC) - started).total_seconds() * 1000
        return SectionAnswer(Provenance(ref.source, ref.section, ref.label, status, started, elapsed, message=message))

    async def aclose(self) -> None:
        await self.calls_written()
        for backend in self.backends.values():
            try:
                await backend.aclose()
            except Exception:  # noqa: BLE001
                log.exception("closing backend %s failed", backend.name)


def _identity(row) -> Identity:
    return Identity(
        birth_name=row.birth_name,
        given_names=tuple(split_given_names(row.given_names)),
        sex=row.sex,
        birth=BirthDate(row.birth_year, row.birth_month, row.birth_day),
        usage_name=row.usage_name,
        birth_insee_code=row.birth_insee_code,
        birth_country_code=row.birth_country_code,
        france_travail_id=row.france_travail_id,
    )
