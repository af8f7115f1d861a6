"""The dossier: every enabled source asked at once, each under its own deadline.

``consult`` yields each section's answer the moment it arrives, so a screen
shows them progressively and a dead source delays nothing but itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, text

from counter.backend import Backend, Identity, Provenance, SectionAnswer, Status, Subject
from counter.domain.dates import BirthDate
from counter.domain.names import split_given_names
from counter.services.households import HouseholdService
from counter.store.engine import Store

log = logging.getLogger("counter.dossier")

# A backend enforces its own deadline; this margin only catches one that does not.
DEADLINE_GRACE = 0.5


@dataclass(frozen=True, slots=True)
class SectionRef:
    source: str
    section: str
    label: str
    source_label: str


class DossierService:
    def __init__(self, store: Store, backends: Sequence[Backend], clock, agent: str = "", host: str | None = None,
                 role: str = "agent", training: bool = False) -> None:
        import socket

        self.store = store
        self.backends = {b.name: b for b in backends}
        self.clock = clock
        self.agent = agent
        self.host = host or socket.gethostname()
        self.role = role
        self.training = training

    def record_consultation(self, person_id: int, refs: Sequence[SectionRef], purpose: str) -> None:
        """Audit one consultation: who, from which counter, whom, which sources, why (ids and codes only)."""
        from counter.domain.purposes import is_known
        from counter.services import audit

        if not is_known(purpose):
            raise ValueError(f"not a consultation purpose: {purpose!r} (counter.domain.purposes)")

        actor = audit.Actor(self.agent, self.role, self.host, self.training)
        audit.require(self.store, actor, "consult", "person", person_id)
        sources = sorted({f"{r.source}.{r.section}" for r in refs})
        audit.record(self.store, actor, "dossier.consult", "person", person_id,
                     {"purpose": purpose, "sources": sources})

    def sections(self) -> list[SectionRef]:
        return [
            SectionRef(b.name, spec.key, spec.label, b.label)
            for b in self.backends.values()
            for spec in b.sections()
        ]

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
        purpose: str | None = None,
    ) -> AsyncIterator[SectionAnswer]:
        """Every section's answer, in the order they arrive; with ``purpose``, the
        consultation is audited first (and refused, audited, for a role that may not consult)."""
        refs = list(only) if only is not None else self.sections()
        if purpose is not None:
            await asyncio.to_thread(self.record_consultation, subject.person_id, refs, purpose)
        tasks = [asyncio.ensure_future(self._ask(ref, subject, refresh)) for ref in refs]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:
                task.cancel()

    async def _ask(self, ref: SectionRef, subject: Subject, refresh: bool) -> SectionAnswer:
        backend = self.backends[ref.source]
        started = datetime.now(UTC)
        try:
            return await asyncio.wait_for(
                backend.fetch(ref.section, subject, refresh=refresh), backend.timeout + DEADLINE_GRACE
            )
        except TimeoutError:
            status, message = Status.TIMEOUT, f"Pas de réponse en {backend.timeout:g} s."
        except Exception:  # noqa: BLE001 — a plugin's bug stays in its own section
            log.exception("backend %s raised on section %s", ref.source, ref.section)
            status, message = Status.BAD_RESPONSE, "Réponse inattendue de la source."
        elapsed = (datetime.now(UTC) - started).total_seconds() * 1000
        return SectionAnswer(Provenance(ref.source, ref.section, ref.label, status, started, elapsed, message=message))

    async def aclose(self) -> None:
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
