"""The dossier: its sections, and a consultation streamed section by section."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from counter.wire import api


class DossierCalls:
    connection: object

    def dossier_sections(self):
        """The configured sources' sections (SectionRef), in the dossier's order."""
        return self.connection.call(api.DOSSIER_SECTIONS)

    def consult(self, person_id: int, purpose: str, sections: Iterable[tuple[str, str]] | None = None,
                refresh: bool = False, opening: str | None = None) -> Iterator:
        """DossierUpdates as the service sends them: the subject first, then each
        section's answer as its source answers, with the disagreements so far."""
        keys = None if sections is None else tuple((source, section) for source, section in sections)
        return self.connection.stream(api.DOSSIER_CONSULT,
                                      api.ConsultArgs(person_id, purpose, keys, refresh, opening))

    def compare_dossier(self, opening: str):
        """After a correction: the subject as the town now records it, the disagreements left."""
        return self.connection.call(api.DOSSIER_COMPARE, api.OpeningArgs(opening))
