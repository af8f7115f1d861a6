"""The récépissé handed to a family: its data, its wording, its tracking code.

The receipt is laid out once as a list of blocks (``blocks``); the plain text
(``render_text``) and the PDF (counter.services.receipts) both draw those
blocks, so the two always say the same thing. Every string goes through
``printable``: names and addresses come from agencies and keyboards.
"""

from __future__ import annotations

import json
import secrets
import textwrap
from dataclasses import asdict, dataclass
from datetime import date
from typing import Protocol

from counter.domain.text import printable
from counter.domain import kinds
from counter.domain.visits import STATE_LABELS, RegState

TRAINING_MARK = "FORMATION — document sans valeur"
TITLE = "RÉCÉPISSÉ DE DEMANDES"

# Crockford base32 without I, L, O, U: nothing to misread when a family reads it over the phone.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_PREFIX = "RCP"
CODE_GROUPS = (4, 4)  # 40 random bits

# The counter works a crèche rank out from the town's list as last synchronised
# plus its own applications not yet sent: the town's answer has the last word.
PROVISIONAL_RANK_NOTE = ("Le rang sur la liste d'attente de la crèche est provisoire : la mairie le confirme "
                         "à réception de la demande.")

# On the roaming bus (docs/tour.md) places and ranks are taken by the town's database
# when the bus's visits are sent back, not on board: every request of a kind that holds
# places or ranks is provisional until then, online or not.
BUS_PROVISIONAL = ("Inscription provisoire ({which}) : confirmée au retour du bus en mairie ; si la place "
                   "n'est plus libre, l'enfant est placé en liste d'attente et la famille est prévenue.")


def bus_provisional_note(numbers: list[int], total: int) -> str:
    """The receipt's note for the requests ``numbers`` (1-based) made on the bus."""
    if total <= 1:
        which = "cette demande"
    elif len(numbers) == 1:
        which = f"demande {numbers[0]}"
    else:
        which = "demandes " + ", ".join(map(str, numbers[:-1])) + f" et {numbers[-1]}"
    return BUS_PROVISIONAL.format(which=which)


@dataclass(frozen=True)
class ReceiptLine:
    """One registration as the family reads it."""

    kind: str  # the kind's id (counter.domain.kinds)
    who: str  # "Léa GIRAUD (née le 25/11/2018)"
    what: str  # "École maternelle Jules-Ferry — MS, 2027-2028"
    state: str  # RegState value
    state_label: str  # from STATE_LABELS
    detail: str = ""  # "rang 4", "motif : rapprochement fratrie"
    prices: tuple[str, ...] = ()  # already worded
    # (paper, confirmed_by or None); confirmed_by as it reads after "par": "la CAF" ("CAF" is worded too).
    papers: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class Receipt:
    code: str
    issued_on: date
    town: str
    agent: str
    household: str  # "Foyer F-00441 — 86 rue des Sablons, 45999 Bellerive-sur-Loire"
    lines: tuple[ReceiptLine, ...]
    notes: tuple[str, ...] = ()
    training: bool = False


@dataclass(frozen=True)
class ReceiptFiles:
    """Where the service saved a receipt's text and PDF (paths on the service's machine)."""

    text_path: str
    pdf_path: str
    shown: str  # under the receipts' directory, as the agent is told: "2026/11/RCP-7K3M-Q2XD.pdf"


@dataclass(frozen=True)
class PrintResult:
    ok: bool
    message: str  # French, for the agent


@dataclass(frozen=True)
class Block:
    """One paragraph of the layout.

    style: mark (training banner), title, subtitle, heading, text, rule.
    indent: the paragraph's left margin in characters; ``hanging`` is the
    margin of its continuation lines (a numbered item's text aligns under itself).
    """

    style: str
    text: str = ""
    indent: int = 0
    hanging: int | None = None


def state_wording(kind: str, state: str, rank: int | None = None, *, rank_confirmed: bool = False) -> tuple[str, str]:
    """(state label, detail) of one registration on the receipt, each said once."""
    try:
        reg_state = RegState(state)
    except ValueError:
        return state, ""
    plugin = kinds.find(kind)
    said = plugin.state_wording(reg_state, rank, rank_confirmed=rank_confirmed) if plugin is not None else None
    if said is not None:
        return said
    if reg_state is RegState.TO_DELIVER:
        return kinds.RegistrationKind.to_deliver_label, ""
    if reg_state is RegState.DEROGATION_REQUESTED:
        return STATE_LABELS[reg_state], "place non réservée, décision à venir"
    return STATE_LABELS[reg_state], ""


def to_json(receipt: Receipt) -> str:
    """The receipt as stored with its visit (migration 0003): enough to draw it again, identical."""
    data = asdict(receipt)
    data["issued_on"] = receipt.issued_on.isoformat()
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def from_json(text: str) -> Receipt:
    """The inverse of :func:`to_json`; ValueError (or KeyError/TypeError) for anything else."""
    data = json.loads(text)
    lines = tuple(
        ReceiptLine(**{**line, "prices": tuple(line.get("prices", ())),
                       "papers": tuple((label, by) for label, by in line.get("papers", ()))})
        for line in data["lines"]
    )
    return Receipt(code=data["code"], issued_on=date.fromisoformat(data["issued_on"]), town=data["town"],
                   agent=data["agent"], household=data["household"], lines=lines,
                   notes=tuple(data.get("notes", ())), training=bool(data.get("training", False)))


def _p(text: str) -> str:
    return printable(text).strip()


def _kind_label(kind: str) -> str:
    return kinds.label(kind)


_ARTICLES = {"CAF": "la CAF", "MSA": "la MSA", "CPAM": "la CPAM"}


def _by(source: str) -> str:
    # confirmed_by may come bare ("CAF") or worded ("la CAF").
    return _ARTICLES.get(source, source)


def papers_to_bring(receipt: Receipt) -> list[tuple[str, list[int]]]:
    """Papers not yet confirmed, in first-seen order, with the numbers of the requests needing them."""
    wanted: dict[str, list[int]] = {}
    for number, line in enumerate(receipt.lines, 1):
        for label, confirmed_by in line.papers:
            if confirmed_by:
                continue
            numbers = wanted.setdefault(_p(label), [])
            if number not in numbers:
                numbers.append(number)
    return list(wanted.items())


def papers_confirmed(receipt: Receipt) -> list[tuple[str, list[str]]]:
    """Papers an agency already vouched for, grouped by who confirmed them."""
    by_source: dict[str, list[str]] = {}
    for line in receipt.lines:
        for label, confirmed_by in line.papers:
            if not confirmed_by:
                continue
            labels = by_source.setdefault(_by(_p(confirmed_by)), [])
            if _p(label) not in labels:
                labels.append(_p(label))
    return list(by_source.items())


def blocks(receipt: Receipt) -> list[Block]:
    """The receipt's content in reading order, style-tagged for text and PDF."""
    out: list[Block] = []
    if receipt.training:
        out.append(Block("mark", TRAINING_MARK))
    out += [
        Block("title", f"Mairie de {_p(receipt.town)}"),
        Block("subtitle", "Guichet unique des familles"),
        Block("title", TITLE),
        Block("rule"),
        Block("heading", f"Code de suivi : {_p(receipt.code)}"),
        Block("text", f"Date : {receipt.issued_on:%d/%m/%Y}"),
        Block("text", f"Agent : {_p(receipt.agent)}"),
        Block("text", _p(receipt.household)),
        Block("rule"),
        Block("heading", f"Demandes enregistrées ({len(receipt.lines)})"),
    ]
    if not receipt.lines:
        out.append(Block("text", "Aucune demande."))
    for number, line in enumerate(receipt.lines, 1):
        prefix = f"{number}. "
        out.append(Block("heading", f"{prefix}{_kind_label(line.kind)} — {_p(line.who)}",
                         indent=0, hanging=len(prefix)))
        sub = len(prefix)
        if line.what:
            out.append(Block("text", _p(line.what), indent=sub))
        state = f"État : {_p(line.state_label)}"
        if line.detail.strip():
            state += f" — {_p(line.detail)}"
        out.append(Block("text", state, indent=sub))
        for price in line.prices:
            out.append(Block("text", _p(price), indent=sub))
    out.append(Block("rule"))

    out.append(Block("heading", "Pièces à fournir"))
    to_bring = papers_to_bring(receipt)
    if not to_bring:
        out.append(Block("text", "Aucune pièce à fournir."))
    for label, numbers in to_bring:
        item = f"- {label}"
        if len(receipt.lines) > 1:
            which = "demande" if len(numbers) == 1 else "demandes"
            item += f" ({which} {', '.join(map(str, numbers))})"
        out.append(Block("text", item, indent=2, hanging=4))
    for source, labels in papers_confirmed(receipt):
        out.append(Block("text", f"Déjà confirmé par {source} : {', '.join(labels)}"))

    # Several requests may bring the same note (two crèche applications): said once.
    notes = list(dict.fromkeys(_p(note) for note in receipt.notes if note.strip()))
    if notes:
        out.append(Block("rule"))
        out.append(Block("heading", "À noter"))
        out += [Block("text", f"- {note}", indent=2, hanging=4) for note in notes]

    out.append(Block("rule"))
    out.append(Block("text", f"Pour suivre votre dossier, rappelez le code {_p(receipt.code)} au guichet "
                             "unique de la mairie, sur place ou par téléphone. Conservez ce récépissé."))
    if receipt.training:
        out.append(Block("mark", TRAINING_MARK))
    return out


def render_text(receipt: Receipt, width: int = 72) -> str:
    """The receipt as plain text, no line longer than ``width``."""
    width = max(width, 20)
    rendered: list[str] = []
    for block in blocks(receipt):
        if block.style == "rule":
            rendered.append("-" * width)
            continue
        if block.style in ("mark", "title", "subtitle"):
            rendered += [part.center(width).rstrip() for part in _wrap(block.text, width, 0, 0)]
            continue
        hanging = block.indent if block.hanging is None else block.hanging
        rendered += _wrap(block.text, width, block.indent, hanging)
    return "\n".join(rendered) + "\n"


def _wrap(text: str, width: int, indent: int, hanging: int) -> list[str]:
    # break_long_words: a 90-letter hyphen-less name still fits the paper.
    return textwrap.wrap(text, width=width, initial_indent=" " * indent, subsequent_indent=" " * hanging,
                         break_long_words=True, break_on_hyphens=True) or [""]


class _Chooser(Protocol):
    def choice(self, seq: str) -> str: ...


def new_code(rng: _Chooser | None = None) -> str:
    """A tracking code like ``RCP-7K3M-Q2XD``; ``rng`` (e.g. random.Random(seed)) for tests."""
    choose = rng.choice if rng is not None else secrets.choice
    groups = ("".join(choose(CODE_ALPHABET) for _ in range(size)) for size in CODE_GROUPS)
    return "-".join((CODE_PREFIX, *groups))


def is_code(text: str) -> bool:
    parts = text.split("-")
    return (len(parts) == 1 + len(CODE_GROUPS) and parts[0] == CODE_PREFIX
            and all(len(p) == n and all(c in CODE_ALPHABET for c in p) for p, n in zip(parts[1:], CODE_GROUPS)))
