"""The dossier: what every agency knows about a person, arriving section by section.

The counter service asks the agencies, audits the consultation and compares
the answers with the town's record; this screen shows what it streams.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from counter.domain.text import shown
from screens.base import CounterScreen, failure_message, service_worker
from screens.widgets import StatusLine, lines_of

if TYPE_CHECKING:
    from counter.backend import SectionAnswer, SectionRef, Subject
    from counter.domain.dossier import DossierUpdate
    from counter.domain.merge import Conflict

PENDING = "… en attente de la réponse"
NO_SOURCE = "Aucune source n'est configurée : seul le dossier de la mairie est disponible."


class SectionPanel(Static, can_focus=True):
    """One section of one source: its status line, then its facts."""

    # Up and down move between sections (the scroll container would otherwise take them).
    BINDINGS = [
        Binding("down", "app.focus_next", "Section suivante", show=False),
        Binding("up", "app.focus_previous", "Section précédente", show=False),
    ]

    DEFAULT_CSS = """
    SectionPanel {
        height: auto;
        padding: 0 1;
        margin-bottom: 1;
        border-left: blank;
    }
    SectionPanel:focus {
        border-left: thick $accent;
        background: $boost;
    }
    SectionPanel.-failed {
        border-left: blank $error;
    }
    SectionPanel.-failed:focus {
        border-left: thick $error;
    }
    """

    def __init__(self, ref: SectionRef) -> None:
        super().__init__(id=f"section-{ref.source}-{ref.section}")
        self.ref = ref
        self.answer: SectionAnswer | None = None

    def on_mount(self) -> None:
        self.show(None)

    def show(self, answer: SectionAnswer | None, today=None) -> None:
        from counter.backend import Status
        from counter.domain.facts_text import describe, status_line

        self.answer = answer
        text = Text()
        text.append(shown(self.ref.label), style="bold")
        text.append("\n")
        if answer is None:
            text.append(f"{shown(self.ref.source_label)} · {PENDING}", style="italic")
        else:
            provenance = answer.provenance
            text.append(shown(status_line(provenance, self.ref.source_label)))
            lines = []
            if provenance.message and provenance.status is not Status.OK:
                lines.append(provenance.message)
            for fact in answer.facts:
                lines.extend(describe(fact, today or self.screen.today()))
            for line in lines:
                text.append("\n" + shown(line))
        self.set_class(answer is not None and answer.provenance.status not in (Status.OK, Status.NOT_APPLICABLE), "-failed")
        self.update(text)


class DossierScreen(CounterScreen[None]):
    CSS_PATH = "dossier.tcss"
    SUB_TITLE = "Dossier"
    BINDINGS = [
        Binding("escape", "back", "Retour", id="dossier.back", tooltip="Revenir à l'écran précédent."),
        Binding("r", "refresh_source", "Actualiser", id="dossier.refresh",
                tooltip="Interroger de nouveau la source de la section sélectionnée (sans cache)."),
        Binding("ctrl+r", "refresh_all", "Tout actualiser", id="dossier.refresh_all",
                tooltip="Interroger de nouveau toutes les sources (sans cache)."),
        Binding("m", "correct", "Corriger", id="dossier.correct",
                tooltip="Reprendre dans le foyer l'adresse d'une source ou un enfant qu'elle connaît."),
    ]

    def __init__(self, person_id: int) -> None:
        super().__init__()
        self.person_id = person_id
        self.subject: Subject | None = None
        self.panels: dict[tuple[str, str], SectionPanel] = {}
        self.conflicts: tuple[Conflict, ...] = ()  # the service's comparison with the town's record
        # The service's name for this consultation: a refresh sends it back and is
        # not audited again (the purpose is asked and audited once per opening).
        self.opening: str | None = None
        self.purpose: str | None = None
        self._started = False
        # Consultations under way (request -> whether it asks every section): the
        # summary waits for the last one.
        self._asking: dict[int, bool] = {}
        self._requests = 0

    def compose_body(self) -> ComposeResult:
        yield Static(id="who")
        yield Static(id="conflicts")
        yield VerticalScroll(id="sections", can_focus=False)
        yield StatusLine(id="status")

    def on_mount(self) -> None:
        self.query_one("#conflicts").display = False
        session = self.app.session
        if session is None or not session.sources_ready:
            self.query_one(StatusLine).say("Connexion aux sources…")
        self.load_sections()

    def today(self):
        return self.app.today()

    @service_worker(group="dossier-sections", failed="Dossier impossible à ouvrir : {reason}")
    def load_sections(self) -> None:
        """The configured sources' sections (the service waits for its agencies)."""
        refs = self.app.counter.dossier_sections()
        self.app.call_from_thread(self._start, list(refs))

    def _start(self, refs: list[SectionRef]) -> None:
        if self._started:
            return
        self._started = True
        for ref in refs:
            self.panels[(ref.source, ref.section)] = SectionPanel(ref)
        self.query_one("#sections").mount_all(self.panels.values())
        if not self.panels:
            # No agency to ask (none configured): the town's own record, said so.
            self.query_one("#sections").mount(Static(id="town-record"))
            self.query_one(StatusLine).say(NO_SOURCE)
        else:
            self.query_one(StatusLine).say("")
            next(iter(self.panels.values())).focus()
        self.refresh_bindings()
        if self.app.visit_purpose is None:
            # Why this dossier is consulted: asked once per family visit, audited,
            # with or without agencies (the town's record is personal data too).
            from screens.lock import PurposeScreen

            self.app.push_screen(PurposeScreen(), self._purpose_chosen)
            return
        self.consult()

    def _purpose_chosen(self, purpose: str | None) -> None:
        if purpose is None:
            self.dismiss()
            return
        self.app.visit_purpose = purpose
        self.consult()

    # -- asking -----------------------------------------------------------------

    def consult(self, refs: list[SectionRef] | None = None, refresh: bool = False) -> None:
        """Every section (or ``refs``) again; an earlier consultation still under way is superseded."""
        doing = "Actualisation de toutes les sources…" if refresh else "Interrogation des sources…"
        for superseded in [r for r, whole in self._asking.items() if whole]:
            del self._asking[superseded]  # its late answers are not shown over the new ones
        self._ask(refs or [p.ref for p in self.panels.values()], refresh, doing, whole=True)

    def _ask(self, refs: list[SectionRef], refresh: bool, doing: str, whole: bool = False) -> None:
        """Ask again for ``refs``, the status line saying so until every consultation is done."""
        for ref in refs:
            self.panels[(ref.source, ref.section)].show(None)
        self.query_one(StatusLine).say(doing)
        self._requests += 1
        request = self._requests
        self._asking[request] = whole
        if self.purpose is None:
            self.purpose = self.app.visit_purpose or ""
        keys = [(ref.source, ref.section) for ref in refs]
        self.run_worker(lambda: self._stream(request, keys, refresh), thread=True, group="dossier",
                        exit_on_error=False)

    def _stream(self, request: int, keys: list[tuple[str, str]], refresh: bool) -> None:
        """(Worker thread.) The service's updates as they come, each shown at once."""
        from textual.worker import get_current_worker

        from counter.client.errors import Refused

        worker = get_current_worker()
        failure = None
        try:
            updates = self.app.counter.consult(self.person_id, self.purpose, keys, refresh, self.opening)
            try:
                for update in updates:
                    if worker.is_cancelled or request not in self._asking:
                        break  # the screen left, or a newer consultation superseded this one
                    self.app.call_from_thread(self._received, request, update)
            finally:
                updates.close()
        except Refused as exc:
            failure = _refusal(exc.problem)
        except Exception as exc:  # noqa: BLE001 — the service gone, or a fault of ours (logged): said
            failure = failure_message(exc, "Consultation impossible : {reason}. Ctrl+R pour réessayer.",
                                      "Consultation impossible : service du guichet injoignable. "
                                      "Ctrl+R pour réessayer.")
        if not worker.is_cancelled:
            self.app.call_from_thread(self._asked, request, failure)

    def _received(self, request: int, update: DossierUpdate) -> None:
        if request not in self._asking:
            return
        self.opening = update.opening
        if update.subject is not None:
            self.subject = update.subject
            self._describe_subject()
            self._show_town_record()
        if update.answer is not None:
            provenance = update.answer.provenance
            panel = self.panels.get((provenance.source, provenance.section))
            if panel is not None:
                panel.show(update.answer)
        self._show_conflicts(update.conflicts)

    def _asked(self, request: int, failure: str | None) -> None:
        if self._asking.pop(request, None) is None:
            return  # superseded: the newer consultation says how it went
        status = self.query_one(StatusLine)
        if failure is not None:
            status.say(failure, error=True)
        elif not self._asking:
            status.say(self._summary())

    def _describe_subject(self) -> None:
        subject = self.subject
        identity = subject.identity
        born = "née" if identity.sex == "F" else "né"
        name = f"{identity.usage_name} {born} {identity.birth_name}" if identity.usage_name and identity.usage_name != identity.birth_name else identity.birth_name
        line = f"{' '.join(identity.given_names)} {name} — {born} le {identity.birth.display()}"
        if subject.household is not None:
            line += f" · foyer {subject.household.label}"
        self.sub_title = f"Dossier — {name}"
        self.query_one("#who", Static).update(lines_of([line]))

    def _show_town_record(self) -> None:
        found = self.query("#town-record")
        if not found:
            return
        from counter.domain.facts_text import town_record

        text = Text()
        text.append("Dossier de la mairie", style="bold")
        for line in town_record(self.subject):
            text.append("\n" + shown(line))
        found.first(Static).update(text)

    def _answers(self) -> list[SectionAnswer]:
        return [p.answer for p in self.panels.values() if p.answer is not None]

    def _show_conflicts(self, found: tuple[Conflict, ...]) -> None:
        self.conflicts = found
        box = self.query_one("#conflicts", Static)
        box.display = bool(found)
        if found:
            lines = [f"⚠ {len(found)} désaccord{'s' if len(found) > 1 else ''} avec la mairie :"]
            for conflict in found:
                lines.append(f"• {conflict.message} ({conflict.source}) : {conflict.agency_value}")
                if conflict.town_value:
                    lines.append(f"    mairie : {conflict.town_value}")
            box.update(lines_of(lines))

    def _summary(self) -> str:
        from counter.backend import Status

        if not self.panels:
            return NO_SOURCE
        answers = self._answers()
        failed = sum(1 for a in answers if a.provenance.status not in (Status.OK, Status.NOT_APPLICABLE, Status.NOT_FOUND))
        received = f"{len(answers)} section reçue" if len(answers) == 1 else f"{len(answers)} sections reçues"
        if failed:
            return f"{received}, dont {failed} en échec : « r » pour réessayer la section choisie."
        return f"{received}."

    # -- actions ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("refresh_source", "refresh_all", "correct"):
            return bool(self.panels)  # no source: nothing to ask again or compare
        return True

    def action_refresh_source(self) -> None:
        panel = self.focused if isinstance(self.focused, SectionPanel) else None
        if panel is not None and self.subject is not None:
            self.refresh_source(panel.ref.source)

    def refresh_source(self, source: str) -> None:
        """Every section of one source again, bypassing caches; the others stay."""
        refs = [p.ref for p in self.panels.values() if p.ref.source == source]
        if refs:
            self._ask(refs, True, f"Actualisation : {shown(refs[0].source_label)}…")

    def action_refresh_all(self) -> None:
        if self.subject is not None:
            self.consult(refresh=True)

    # -- keeping the town's record right ------------------------------------------------

    def action_correct(self) -> None:
        from screens.corrections import PICK_ADDRESS, ChooseCorrection, correctable

        if self.subject is None or self.subject.household is None:
            self.query_one(StatusLine).say("Pas de foyer à corriger pour cette personne.", error=True)
            return
        choices = correctable(self.conflicts)
        if not choices:
            self.query_one(StatusLine).say("Aucun désaccord à reprendre dans le dossier de la mairie.")
            return

        # An agency's other address may also be picked from the town's list (street, then number).
        moved = next((c for c in choices if c.kind == "address"), None)

        def chosen(index: int | None) -> None:
            if index is not None and index >= len(choices):
                self._pick_address(moved)
            elif index is not None:
                self._correct(choices[index])

        self.app.push_screen(ChooseCorrection(choices, (PICK_ADDRESS,) if moved else ()), chosen)

    def _pick_address(self, conflict) -> None:
        from counter.domain.addresses import split_street_line
        from screens.address_picker import AddressPicker

        address = conflict.address
        number, suffix, street = split_street_line(address.street_line or "") or (None, None, address.street_line)
        picker = AddressPicker(self.subject.household.id, self.subject.household.label, conflict.agency_value,
                               conflict.source, street or "", number, suffix, address.complement)
        self.app.push_screen(picker, lambda done: done and self._address_picked())

    @service_worker(group="correction", exclusive=False)
    def _address_picked(self) -> None:
        self._after_correction("Adresse du foyer mise à jour (modification tracée).")

    def _correct(self, conflict) -> None:
        from screens.visit import ConfirmVisit

        if conflict.kind == "address":
            lines = [f"Remplacer l'adresse du foyer {self.subject.household.label} :",
                     f"  mairie : {conflict.town_value}", f"  par : {conflict.agency_value} ({conflict.source}) ?"]
            self.app.push_screen(ConfirmVisit(lines, title="Changer l'adresse", yes="Remplacer"),
                                 lambda ok: ok and self.apply_address(conflict.address))
            return
        from counter.domain.identity_checks import PersonInput, check_new_member
        from screens.member_form import MemberForm

        member = conflict.member
        # The agency gives no birthplace: recorded as France, the commune to
        # complete from the livret de famille (the agencies key on the country).
        typed = PersonInput(
            birth_name=member.birth_name, usage_name=member.usage_name or "", given_names=member.given_names,
            sex=member.sex or "", birth_date=f"{member.birth_date:%d/%m/%Y}" if member.birth_date else "",
            role="child", birthplace_to_complete=True,
        )
        today = self.today()
        if not check_new_member(typed, [], today):
            fields = typed.to_person_fields()
            born = "née" if fields["sex"] == "F" else "né"
            day = member.birth_date
            lines = [f"Ajouter au foyer {self.subject.household.label} l'enfant connu de la source ({conflict.source}) :",
                     f"  {fields['given_names'].replace(',', '')} {fields['birth_name']}, {born} le {day:%d/%m/%Y}",
                     "  lieu de naissance : France, commune à compléter (livret de famille)"]
            self.app.push_screen(ConfirmVisit(lines, title="Ajouter l'enfant au foyer", yes="Ajouter"),
                                 lambda ok: ok and self.add_child(typed))
            return
        # Something the town needs is missing (sex, full birth date): the agent completes it.
        form = MemberForm(typed, check=lambda p: check_new_member(p, [], today),
                          title="Enfant connu de la source : compléter son identité")
        self.app.push_screen(form, lambda person: person and self.add_child(person))

    @service_worker(group="correction", exclusive=False, failed="Adresse non modifiée : {reason}")
    def apply_address(self, address) -> None:
        written = self.app.counter.set_address(
            self.subject.household.id, complement=address.complement, line=address.street_line,
            postal_code=address.postal_code, city=address.city)
        if written.errors:
            self.app.call_from_thread(self.say, written.errors[0][1].message, error=True)
            return
        self._after_correction("Adresse du foyer mise à jour (modification tracée).")

    @service_worker(group="correction", exclusive=False, failed="Enfant non ajouté : {reason}")
    def add_child(self, person) -> None:
        written = self.app.counter.add_member(self.subject.household.id, person)
        if written.errors:
            self.app.call_from_thread(self.say, written.errors[0][1].message, error=True)
            return
        fields = person.to_person_fields()
        message = "Enfant ajouté au foyer (modification tracée)."
        if fields["birth_insee_code"] is None and fields["birth_country_code"] == "99100":
            message += " Commune de naissance à compléter."
        self._after_correction(message)

    def _after_correction(self, message: str) -> None:
        """(Worker thread.) The service compares again with the household as it now is."""
        from counter.client.errors import Refused, ServiceUnavailable

        try:
            compared = self.app.counter.compare_dossier(self.opening) if self.opening else None
        except (Refused, ServiceUnavailable):
            compared = None

        def show() -> None:
            if compared is not None:
                self.subject = compared.subject
                self._show_town_record()
                self._show_conflicts(compared.conflicts)
            self.query_one(StatusLine).say(message)

        self.app.call_from_thread(show)

    def action_back(self) -> None:
        self.dismiss()


def _refusal(problem) -> str:
    """The status line's words for a consultation the service refused or could not make."""
    if problem.code == "not_found":
        return "Cette personne n'existe plus."
    if problem.code == "unavailable":
        return "Consultation impossible : base de données indisponible. Ctrl+R pour réessayer."
    return problem.message
