"""A visit: the registrations a family came for, one summary, one confirmation."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

from counter.domain.purposes import VISIT_PURPOSE
from counter.domain.visits import CrecheRequest, LibraryRequest, SchoolRequest, VisitDraft
from screens.widgets import SafeHeader, SafeInput, StatusLine, TrainingBanner, lines_of, plain, quit_unshown

EDIT_SAVE_DELAY = 0.3


def town_rules(app):
    from counter.domain.rules import default_rules

    return app.runtime.rules or default_rules()


class VisitScreen(Screen[None]):
    CSS_PATH = "visit.tcss"
    AUTO_FOCUS = "#requests"
    BINDINGS = [
        Binding("e", "add('school')", "École", id="visit.school", tooltip="Ajouter une inscription scolaire."),
        Binding("c", "add('creche')", "Crèche", id="visit.creche", tooltip="Ajouter une demande de crèche."),
        Binding("b", "add('library')", "Biblio.", id="visit.library",
                tooltip="Ajouter une carte de bibliothèque (création ou renouvellement)."),
        Binding("enter", "edit", "Modifier", id="visit.edit", show=False),
        # Left out of the footer at 80 columns: Delete on the selected request,
        # and « q », which the facts line names when a QF can be declared.
        Binding("delete", "remove", "Retirer", id="visit.remove", show=False, tooltip="Retirer la demande sélectionnée."),
        Binding("q", "declare_qf", "QF", id="visit.qf", show=False,
                tooltip="Saisir un quotient familial déclaré, faute de celui de la CAF."),
        Binding("ctrl+s", "confirm", "Valider", id="visit.confirm", priority=True,
                tooltip="Relire le récapitulatif et confirmer la visite."),
        Binding("ctrl+d", "abandon", "Abandon", id="visit.abandon", tooltip="Abandonner cette visite."),
        Binding("escape", "back", "Retour", id="visit.back", tooltip="Revenir (la visite reste en brouillon)."),
        quit_unshown("visit"),
    ]

    def __init__(self, visit_id: int) -> None:
        super().__init__()
        self.visit_id = visit_id
        self.context = None
        self.draft: VisitDraft | None = None
        self.facts = None
        self._edit_timer = None
        # Saves run in threads: each carries a revision so that an older one
        # finishing late never overwrites a newer draft.
        self._revision = 0
        self._written = 0
        self._save_lock = threading.Lock()
        self._confirm_when_answered = False  # Ctrl+S pressed while the agencies were still asked

    def compose(self) -> ComposeResult:
        if self.app.runtime.training:
            yield TrainingBanner()
        yield SafeHeader(icon="≡")
        yield Static(id="who")
        yield Static(id="facts")
        yield DataTable(id="requests", cursor_type="row")
        with VerticalScroll(id="summary-box"):
            yield Static(id="summary")
        yield StatusLine(id="status")
        # Eight keys to show at 80 columns: the palette (Ctrl+P) still works, unlisted.
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = "Visite"
        self._columns_for = None  # (table width, name width) the columns were laid out for
        self.load()

    def on_resize(self) -> None:
        if self.draft is not None:
            self._show()

    def _lay_columns(self, items) -> None:
        """Columns that fill the table's width: the name as wide as the longest
        (up to a third), the detail the rest; full texts are in the pane below."""
        table = self.query_one("#requests", DataTable)
        width = max(table.size.width or self.size.width, 40)
        spare = width - 4 * 2 * table.cell_padding - 2 - 12 - 1  # padding, N°, Demande, scrollbar
        longest = max([len(item.who_short) for item in items], default=0)
        who = min(max(longest, 14), max(14, spare // 3))
        if self._columns_for == (width, who):
            return
        self._columns_for = (width, who)
        table.clear(columns=True)
        table.add_column("N°", width=2, key="n")
        table.add_column("Demande", width=12, key="kind")
        table.add_column("Pour", width=who, key="who")
        table.add_column("Détail", width=max(spare - who, 10), key="what")

    # -- loading and saving ----------------------------------------------------------

    @work(thread=True, exclusive=True, group="visit-load", exit_on_error=False)
    def load(self) -> None:
        from counter.services.visit_summary import VisitFacts

        visits = self.app.services.visits
        state, draft = visits.load(self.visit_id)
        context = visits.context(self.visit_id)
        # Pending until the agencies have answered: no price from missing answers.
        self.app.call_from_thread(self._loaded, state, draft, context, VisitFacts(pending=True))

    def _loaded(self, state, draft, context, facts) -> None:
        self.draft, self.context, self.facts = draft, context, facts
        where = f" · {context.address.one_line()}" if context.address else ""
        self.query_one("#who", Static).update(lines_of([f"Visite — foyer {context.household}{where}"]))
        self.sub_title = f"Visite — foyer {context.household}"
        self._show()
        if state != "draft":
            self.query_one(StatusLine).say("Cette visite n'est plus un brouillon.", error=True)
            return
        self._show_facts()
        self.gather_facts()
        if draft.editing:
            self._open_form(draft.editing.get("kind"), draft.editing.get("index"), draft.editing.get("values"))

    def _save(self) -> None:
        self._revision += 1
        self.save_draft(self._revision, VisitDraft.from_json(self.draft.to_json()))

    @work(thread=True, group="visit-save", exit_on_error=False)
    def save_draft(self, revision: int, draft: VisitDraft) -> None:
        try:
            with self._save_lock:
                if revision < self._written:
                    return
                self.app.services.visits.save(self.visit_id, draft)
                self._written = revision
        except Exception:  # noqa: BLE001
            import logging

            logging.getLogger("counter").exception("saving a draft failed")
            self.app.call_from_thread(self.query_one(StatusLine).say,
                                      "Brouillon non enregistré : base de données indisponible.", error=True)

    # -- what the agencies confirm ------------------------------------------------------

    @work(exclusive=True, group="visit-facts", exit_on_error=False)
    async def gather_facts(self) -> None:
        """Ask the dossier of the household's adults for what spares the family papers."""
        from counter.services.visit_summary import VisitFacts

        try:
            facts = await self._ask_agencies()
        except Exception:  # noqa: BLE001 — the visit goes on without the agencies
            import logging

            logging.getLogger("counter").exception("asking the agencies for a visit failed")
            facts = VisitFacts(qf_missing="organismes injoignables")
        facts.pending = False
        self.facts = facts
        self._show_facts()
        self._show()
        if self._confirm_when_answered and self.app.screen is self:
            self.action_confirm()

    async def _ask_agencies(self):
        from counter.backend import EajeInputs, Family, HealthCover, JobSeeker, QuotientFamilial, Status
        from counter.domain.merge import same_address
        from counter.services.visit_summary import VisitFacts

        if not self.app.dossier_ready:
            self.app.ensure_agencies()
            while not self.app.dossier_ready:
                await asyncio.sleep(0.1)
        dossier = self.app.services.dossier
        wanted = {"quotient_familial", "eaje", "c2s", "france_travail"}
        refs = [r for r in dossier.sections() if r.section in wanted]
        adults = [m for m in self.context.members if m.role in ("parent", "other_guardian", "person")]
        facts = VisitFacts(pending=True)
        if not any(r.section == "quotient_familial" for r in refs):
            facts.qf_missing = "aucun organisme ne le donne"
        if not refs or not adults:
            return facts
        qf_status = None
        for index, adult in enumerate(adults):
            subject = await asyncio.to_thread(dossier.subject, adult.person_id)
            if subject is None:
                continue
            only = refs if index == 0 else [r for r in refs if r.section in ("c2s", "france_travail")]
            async for answer in dossier.consult(subject, only, purpose=VISIT_PURPOSE, actor=self.app.actor()):
                if answer.provenance.section == "quotient_familial" and qf_status is not Status.OK:
                    qf_status = answer.provenance.status
                if answer.provenance.status is not Status.OK:
                    continue
                for fact in answer.facts:
                    if isinstance(fact, QuotientFamilial) and facts.qf_value is None:
                        facts.qf_value, facts.qf_provider = fact.value, fact.provider
                    elif isinstance(fact, EajeInputs) and facts.eaje is None and fact.annual_resources is not None:
                        facts.eaje = (fact.children_in_charge, fact.aeeh_children, fact.annual_resources)
                    elif isinstance(fact, Family) and fact.address and self.context.address:
                        if same_address(fact.address, self.context.address):
                            facts.address_confirmed_by = "CAF"
                    elif isinstance(fact, JobSeeker) and fact.registered:
                        facts.job_seekers.add(adult.person_id)
                    elif isinstance(fact, HealthCover) and fact.beneficiary:
                        facts.c2s.add(adult.person_id)
        if facts.qf_value is None and qf_status is not None:
            facts.qf_missing = ("famille inconnue de la CAF" if qf_status is Status.NOT_FOUND
                                else "la CAF n'a pas répondu")
        return facts

    def _show_facts(self) -> None:
        from counter.services.visit_summary import qf_text

        parts = [f"Tarifs : {qf_text(self.draft, self.facts)}"]
        if self.facts.pending:
            parts.append("interrogation des organismes…")
        elif self.facts.qf_value is None:
            parts.append("« q » : modifier le QF déclaré" if self.draft.qf_value is not None
                         else "« q » : saisir un QF déclaré")
        if self.facts.address_confirmed_by:
            parts.append(f"adresse confirmée par la {self.facts.address_confirmed_by}")
        if self.facts.eaje:
            parts.append("ressources crèche connues de la CAF")
        self.query_one("#facts", Static).update(lines_of([" · ".join(parts)]))

    # -- the table and the summary --------------------------------------------------------

    def _summary(self):
        from counter.services.visit_summary import summarise

        return summarise(self.draft, self.context, self.facts, town_rules(self.app), self.app.runtime.clock.today())

    def _show(self) -> None:
        table = self.query_one("#requests", DataTable)
        row = table.cursor_row
        summary = self._summary()
        self._lay_columns(summary.items)
        table.clear()
        for item in summary.items:
            table.add_row(plain(str(item.index + 1)), plain(item.kind), plain(item.who_short), plain(item.what_short))
        if summary.items:
            table.move_cursor(row=min(max(row, 0), len(summary.items) - 1))
        self._describe(summary)
        if not summary.items:
            self.query_one(StatusLine).say("Ajoutez les demandes de la famille : « e » école, « c » crèche, "
                                           "« b » bibliothèque. Tout est enregistré au fur et à mesure.")
        else:
            self.query_one(StatusLine).say(f"{len(summary.items)} demande(s) — Ctrl+S pour relire et confirmer.")

    def _describe(self, summary=None) -> None:
        summary = summary or self._summary()
        lines = []
        index = self.query_one("#requests", DataTable).cursor_row
        if 0 <= index < len(summary.items):
            item = summary.items[index]
            lines.append(f"{item.index + 1}. {item.kind} — {item.who}")
            lines.append(f"   {item.what}")
            lines += [f"   {p}" for p in item.prices]
        if summary.papers_to_bring:
            lines.append("Pièces à fournir : " + " ; ".join(summary.papers_to_bring))
        for paper in summary.papers_confirmed:
            lines.append(f"Sans pièce : {paper.text}")
        self.query_one("#summary", Static).update(lines_of(lines))

    @on(DataTable.RowHighlighted, "#requests")
    def _highlighted(self) -> None:
        if self.draft is not None:
            self._describe()

    # -- adding and editing -----------------------------------------------------------

    def action_add(self, kind: str) -> None:
        if self.context is not None:
            self._open_form(kind, None, None)

    def action_edit(self) -> None:
        index = self.query_one("#requests", DataTable).cursor_row
        if self.draft is None or not 0 <= index < len(self.draft.requests):
            return
        request = self.draft.requests[index]
        kind = {SchoolRequest: "school", CrecheRequest: "creche", LibraryRequest: "library"}[type(request)]
        self._open_form(kind, index, None)

    def _open_form(self, kind: str | None, index: int | None, values: dict | None) -> None:
        from screens.visit_forms import CrecheForm, LibraryForm, SchoolForm

        services = self.app.services
        today = self.app.runtime.clock.today()
        rules = town_rules(self.app)
        request = self.draft.requests[index] if index is not None else None

        def on_edit(raw: dict) -> None:
            self.draft.editing = {"kind": kind, "index": index, "values": raw}
            if self._edit_timer is not None:
                self._edit_timer.stop()
            self._edit_timer = self.set_timer(EDIT_SAVE_DELAY, self._save)

        def check(candidate):
            others = [r for i, r in enumerate(self.draft.requests) if i != index]
            probe = replace(self.draft, requests=[*others, candidate])
            codes = rules.library.codes
            return [e for i, e in services.visits.check(self.context, probe, codes) if i == len(others)]

        if kind == "school":
            form = SchoolForm(self.context, request, values, check, on_edit, today=today)
        elif kind == "creche":
            form = CrecheForm(self.context, today, request, values, check, on_edit,
                              resources_known=self.facts.eaje is not None)
        elif kind == "library":
            from counter.services.visit_summary import suggest_library

            categories = [(c.code, c.label, c.price_text) for c in rules.library.categories]
            form = LibraryForm(self.context, today, categories,
                               lambda member, student: suggest_library(member, student, self.facts, rules, today),
                               request, values, check, on_edit)
        else:
            return

        def done(result) -> None:
            if self._edit_timer is not None:
                self._edit_timer.stop()
            self.draft.editing = None
            if result is not None:
                if index is None:
                    self.draft.requests.append(result)
                else:
                    self.draft.requests[index] = result
            self._save()
            self._show()

        self.app.push_screen(form, done)

    def action_remove(self) -> None:
        index = self.query_one("#requests", DataTable).cursor_row
        if self.draft is not None and 0 <= index < len(self.draft.requests):
            del self.draft.requests[index]
            self._save()
            self._show()

    def action_declare_qf(self) -> None:
        def done(value: int | None) -> None:
            if value is not None:
                self.draft.qf_value, self.draft.qf_source = value, "declared"
                self._save()
                self._show_facts()
                self._show()

        if self.draft is None:
            return
        if self.facts is not None and self.facts.qf_value is not None:
            self.query_one(StatusLine).say("Le quotient familial de la CAF s'applique : un QF déclaré ne sert "
                                           "qu'à défaut.", error=True)
            return
        self.app.push_screen(DeclareQf(self.draft.qf_value), done)

    # -- confirming ------------------------------------------------------------------------

    def action_confirm(self) -> None:
        from counter.services.visit_summary import confirm_blocker

        if self.draft is None or not self.draft.requests:
            self.query_one(StatusLine).say("Aucune demande à confirmer.", error=True)
            return
        if blocker := confirm_blocker(self.facts):
            # Never a summary priced before the agencies answer: it opens when they do.
            self._confirm_when_answered = True
            self.query_one(StatusLine).say(f"{blocker} Le récapitulatif s'ouvrira alors.", error=True)
            return
        self._confirm_when_answered = False
        problems = self.app.services.visits.check(self.context, self.draft, town_rules(self.app).library.codes)
        if problems:
            index, error = problems[0]
            self.query_one(StatusLine).say(f"Demande {index + 1} : {error.message}", error=True)
            return
        summary = self._summary()
        lines = []
        for item in summary.items:
            lines += [f"{item.index + 1}. {item.kind} — {item.who}", f"   {item.what}", *[f"   {p}" for p in item.prices]]
        if summary.papers_to_bring:
            lines.append("Pièces à fournir : " + " ; ".join(summary.papers_to_bring))
        self.app.push_screen(ConfirmVisit(lines), lambda ok: ok and self.confirm())

    @work(thread=True, exclusive=True, group="visit-confirm", exit_on_error=False)
    def confirm(self) -> None:
        from counter.domain.receipt import new_code
        from counter.services.receipts import ensure_saved
        from counter.services.visit_summary import receipt_of
        from counter.services.visits import VisitError, payload_builder

        services = self.app.services
        summary = self._summary()
        runtime = self.app.runtime

        def receipt_for(confirmation):
            return receipt_of(confirmation, summary, self.context, runtime.town_name, runtime.agent_login,
                              runtime.clock.today(), runtime.training)

        try:
            payloads = payload_builder(services.store, self.context, self.app.runtime.clock.today(),
                                       town_rules(self.app).library)
            # The receipt is stored by the confirming transaction; its files come after.
            confirmation = services.visits.confirm(self.visit_id, self.draft, code=new_code(), payloads=payloads,
                                                   receipt=receipt_for)
        except VisitError as exc:
            self.app.call_from_thread(self.query_one(StatusLine).say, str(exc), error=True)
            return
        except Exception:  # noqa: BLE001
            import logging

            logging.getLogger("counter").exception("confirming a visit failed")
            self.app.call_from_thread(self.query_one(StatusLine).say,
                                      "Confirmation impossible : base de données indisponible. Rien n'a été "
                                      "enregistré ; le brouillon est conservé.", error=True)
            return
        receipt = confirmation.receipt or receipt_for(confirmation)
        try:
            saved = ensure_saved(receipt, self.app.runtime.data_dir)
        except OSError:
            saved = None
        self.app.call_from_thread(self._confirmed, receipt, saved)

    def _confirmed(self, receipt, saved) -> None:
        from screens.receipt import ReceiptScreen

        self.app.switch_screen(ReceiptScreen(receipt, saved))
        self.app.wake_outbox()

    def action_abandon(self) -> None:
        def done(ok: bool | None) -> None:
            if ok:
                self.app.services.visits.abandon(self.visit_id)
                self.dismiss()

        self.app.push_screen(ConfirmVisit(["Abandonner cette visite ? Les demandes saisies seront perdues."],
                                          title="Abandonner la visite", yes="Abandonner"), done)

    def action_back(self) -> None:
        self.dismiss()


class ConfirmVisit(ModalScreen[bool]):
    """The summary read back before confirming; Enter confirms, Escape returns."""

    DEFAULT_CSS = """
    ConfirmVisit { align: center middle; }
    ConfirmVisit > VerticalScroll {
        width: 76; max-width: 100%; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    ConfirmVisit #question { text-style: bold; margin-top: 1; }
    """
    BINDINGS = [
        Binding("enter", "yes", "Confirmer", id="confirm.yes", priority=True),
        Binding("escape", "no", "Revenir", id="confirm.no"),
    ]

    def __init__(self, lines: list[str], title: str = "Récapitulatif de la visite", yes: str = "Confirmer") -> None:
        super().__init__()
        self.lines, self.title_text, self.yes = lines, title, yes

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(self.title_text, markup=False)
            yield Static(lines_of(self.lines))
            yield Label(f"Entrée : {self.yes.lower()} · Échap : revenir", id="question", markup=False)
        yield Footer(compact=True)

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


class DeclareQf(ModalScreen[int | None]):
    """The family's own word for its QF, when no agency gives one; Enter keeps it."""

    DEFAULT_CSS = """
    DeclareQf { align: center middle; }
    DeclareQf > VerticalScroll {
        width: 60; max-width: 100%; height: auto; border: thick $primary; background: $surface; padding: 0 1;
    }
    DeclareQf Label { width: 100%; }
    DeclareQf #qf-title { text-style: bold; }
    DeclareQf #error { color: $error; text-style: bold; }
    """
    AUTO_FOCUS = "#qf"
    BINDINGS = [
        # priority: the input's own Enter (not shown) would hide this one from the footer.
        Binding("enter", "keep", "Valider", id="qf.keep", priority=True, tooltip="Appliquer ce quotient familial."),
        Binding("escape", "cancel", "Annuler", id="qf.cancel"),
    ]

    def __init__(self, current: int | None) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with VerticalScroll(can_focus=False):
            yield Label("Quotient familial déclaré", id="qf-title", markup=False)
            yield Label("Celui que la famille indique, sans justificatif de la CAF ; les tarifs le diront "
                        "« déclaré ».", markup=False)
            yield SafeInput(str(self.current or ""), type="integer", id="qf", placeholder="ex. : 640", compact=True)
            yield Label("", id="error", markup=False)
        yield Footer(compact=True)

    @on(Input.Submitted, "#qf")
    def _submitted(self) -> None:
        self.action_keep()

    def action_keep(self) -> None:
        raw = self.query_one("#qf", Input).value.strip()
        try:
            value = int(raw)
        except ValueError:
            value = -1
        if not 0 <= value <= 100_000:
            self.query_one("#error", Label).update("⚠ Un quotient familial est un nombre entier, de 0 à 100 000.")
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
