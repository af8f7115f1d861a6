"""Receipts on disk (text and PDF) and on paper (``lp``).

Files hold personal data: created 0o640 under the data directory, written to a
temporary file beside the target and renamed, so a reader never sees half a
receipt. Printing never raises: the agent gets a French message either way.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path

from counter.files import FILE_MODE, atomic_file, private_dir
from counter.domain.receipt import Block, PrintResult, Receipt, ReceiptFiles, blocks, from_json, render_text

PRINT_TIMEOUT_S = 15

# Where distributions put DejaVu Sans (Debian/Ubuntu, Fedora, Arch, openSUSE, macOS Homebrew/manual).
FONT_CANDIDATES: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/DejaVuSans.ttf"),
    Path("/usr/local/share/fonts/DejaVuSans.ttf"),
    Path("/opt/homebrew/share/fonts/DejaVuSans.ttf"),
    Path("/Library/Fonts/DejaVuSans.ttf"),
)

_SAFE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")


@dataclass(frozen=True)
class SavedReceipt:
    text_path: Path
    pdf_path: Path


def files_of(saved: SavedReceipt, data_dir: Path) -> ReceiptFiles:
    """The wire form of where a receipt was saved, for the terminal to show."""
    shown = saved.pdf_path.relative_to(Path(data_dir) / "receipts")
    return ReceiptFiles(str(saved.text_path), str(saved.pdf_path), str(shown))


def stored_by_code(store, code: str) -> Receipt | None:
    """The receipt kept with the visit confirmed under ``code``."""
    from sqlalchemy import text

    with store.engine.connect() as connection:
        stored = connection.execute(text("SELECT receipt FROM visit WHERE code = :c AND state = 'confirmed'"),
                                    {"c": code}).scalar()
    return from_json(stored) if stored else None


def receipt_dir(data_dir: Path, receipt: Receipt) -> Path:
    return Path(data_dir) / "receipts" / f"{receipt.issued_on:%Y}" / f"{receipt.issued_on:%m}"


def save(receipt: Receipt, data_dir: Path, fonts: Sequence[Path] | None = None) -> SavedReceipt:
    """Write ``<data_dir>/receipts/YYYY/MM/<code>.txt`` and ``.pdf``.

    ``fonts``: TrueType files to try for the PDF (default FONT_CANDIDATES; empty: core Helvetica).
    """
    # The code names the files: refuse anything that could leave the directory.
    if not _SAFE_CODE.fullmatch(receipt.code):
        raise ValueError(f"unsafe receipt code for a file name: {receipt.code!r}")
    folder = receipt_dir(data_dir, receipt)
    private_dir(folder)
    text_path = folder / f"{receipt.code}.txt"
    pdf_path = folder / f"{receipt.code}.pdf"
    _write_atomic(text_path, render_text(receipt).encode("utf-8"))
    _write_atomic(pdf_path, render_pdf(receipt, fonts))
    return SavedReceipt(text_path, pdf_path)


def paths(receipt: Receipt, data_dir: Path) -> SavedReceipt:
    if not _SAFE_CODE.fullmatch(receipt.code):
        raise ValueError(f"unsafe receipt code for a file name: {receipt.code!r}")
    folder = receipt_dir(data_dir, receipt)
    return SavedReceipt(folder / f"{receipt.code}.txt", folder / f"{receipt.code}.pdf")


def ensure_saved(receipt: Receipt, data_dir: Path, fonts: Sequence[Path] | None = None) -> SavedReceipt:
    """The receipt's files, each written only when missing (after a crash between
    the confirmation's commit and the files, or a file deleted); rendering is
    deterministic, so a rewritten file is the same as the first. OSError when
    the directory cannot be written."""
    where = paths(receipt, data_dir)
    if where.text_path.is_file() and where.pdf_path.is_file():
        return where
    private_dir(where.text_path.parent)
    if not where.text_path.is_file():
        _write_atomic(where.text_path, render_text(receipt).encode("utf-8"))
    if not where.pdf_path.is_file():
        _write_atomic(where.pdf_path, render_pdf(receipt, fonts))
    return where


def stored_receipt(store, visit_id: int) -> Receipt | None:
    """The receipt kept with a confirmed visit; None for a visit without one (a draft,
    or confirmed before receipts were kept)."""
    from sqlalchemy import text

    with store.engine.connect() as connection:
        stored = connection.execute(text("SELECT receipt FROM visit WHERE id = :id AND state = 'confirmed'"),
                                    {"id": visit_id}).scalar()
    return from_json(stored) if stored else None


@dataclass(frozen=True)
class RestoreReport:
    checked: int = 0
    rewritten: int = 0  # receipts with at least one file written again
    failed: int = 0  # unreadable stored receipts or unwritable files (logged, without personal data)


def restore_missing(store, data_dir: Path, fonts: Sequence[Path] | None = None, batch: int = 500) -> RestoreReport:
    """Write again, from the database, every confirmed visit's receipt file that is missing."""
    import logging

    from sqlalchemy import text

    log = logging.getLogger("counter.receipts")
    checked = rewritten = failed = 0
    last = 0
    while True:
        with store.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT id, receipt FROM visit WHERE state = 'confirmed' AND receipt IS NOT NULL AND id > :last "
                "ORDER BY id LIMIT :n"), {"last": last, "n": batch}).all()
        if not rows:
            break
        for visit_id, stored in rows:
            last = visit_id
            checked += 1
            try:
                receipt = from_json(stored)
                where = paths(receipt, data_dir)
                if where.text_path.is_file() and where.pdf_path.is_file():
                    continue
                ensure_saved(receipt, data_dir, fonts)
                rewritten += 1
            except (ValueError, KeyError, TypeError, OSError) as exc:
                failed += 1
                log.warning("receipt of visit %s not restored: %s", visit_id, type(exc).__name__)
    if rewritten:
        log.info("receipts restored from the database: %d", rewritten)
    return RestoreReport(checked, rewritten, failed)


def _write_atomic(path: Path, data: bytes) -> None:
    with atomic_file(path, FILE_MODE) as handle:
        handle.write(data)


# -- PDF ---------------------------------------------------------------------------

_SIZES = {"mark": 12, "title": 15, "subtitle": 11, "heading": 11, "text": 10}
_BOLD = {"mark", "title", "heading"}
_CENTERED = {"mark", "title", "subtitle"}
# Typographic characters outside cp1252, for the core-font fallback only.
_CP1252_FRIENDLY = str.maketrans({"\u202f": " ", "\u2009": " ", "\u2011": "-", "\u2212": "-"})


def find_font(candidates: Sequence[Path] | None = None) -> Path | None:
    for path in FONT_CANDIDATES if candidates is None else candidates:
        if Path(path).is_file():
            return Path(path)
    return None


def render_pdf(receipt: Receipt, fonts: Sequence[Path] | None = None) -> bytes:
    """An A4 PDF with the same blocks as the text receipt."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(f"Récépissé {receipt.code}")
    pdf.set_creator("counter")
    # The issue date, not the rendering time: a receipt written again is byte for byte the same.
    pdf.set_creation_date(datetime.combine(receipt.issued_on, time(12), tzinfo=UTC))
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(auto=True, margin=18)
    family, fit = _choose_font(pdf, fonts)
    pdf.add_page()
    for block in blocks(receipt):
        if block.style == "rule":
            pdf.ln(1.5)
            y = pdf.get_y()
            pdf.set_draw_color(150, 150, 150)
            pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
            pdf.ln(2.5)
            continue
        bold = block.style in _BOLD
        size = _SIZES.get(block.style, 10)
        pdf.set_font(family, "B" if bold else "", size)
        if block.style == "mark":
            pdf.set_text_color(170, 0, 0)
        else:
            pdf.set_text_color(0, 0, 0)
        char_w = pdf.get_string_width("0")
        text = fit(pdf, block.text)
        height = size * 0.5
        if block.style in _CENTERED:
            pdf.multi_cell(0, height, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            continue
        _indented(pdf, block, text, char_w, height, XPos, YPos)
        if block.style == "heading":
            pdf.ln(0.5)
    return bytes(pdf.output())


def _indented(pdf, block: Block, text: str, char_w: float, height: float, XPos, YPos) -> None:
    """A paragraph with a left margin and a hanging indent, as in the text receipt."""
    hanging = block.indent if block.hanging is None else block.hanging
    left = pdf.l_margin
    if hanging == block.indent:
        pdf.set_x(left + block.indent * char_w)
        pdf.multi_cell(0, height, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return
    # Hanging indent: the first line's lead ("1. ", "- ") sits in the gutter.
    lead_chars = hanging - block.indent
    lead, rest = text[:lead_chars], text[lead_chars:]
    pdf.set_x(left + block.indent * char_w)
    pdf.cell(hanging * char_w - block.indent * char_w, height, lead)
    pdf.multi_cell(0, height, rest, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _choose_font(pdf, fonts: Sequence[Path] | None):
    """(family, fit) — ``fit`` makes a string drawable in that font, visibly replacing what is not."""
    path = find_font(fonts)
    if path is not None:
        try:
            pdf.add_font("Receipt", "", str(path))
            bold = path.with_name(path.stem + "-Bold" + path.suffix)
            pdf.add_font("Receipt", "B", str(bold if bold.is_file() else path))
        except Exception:  # noqa: BLE001 — an unreadable or broken font: fall back, never fail
            pass
        else:
            return "Receipt", _fit_ttf
    # Core fonts: cp1252 has œ and € (Latin-1 does not).
    pdf.core_fonts_encoding = "windows-1252"
    return "Helvetica", _fit_cp1252


def _fit_ttf(pdf, text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    cmap = getattr(pdf.current_font, "cmap", None)
    if not cmap:
        return text
    # A glyph the font lacks would be drawn as nothing: show a replacement instead.
    missing = "\N{REPLACEMENT CHARACTER}" if ord("\N{REPLACEMENT CHARACTER}") in cmap else "?"
    return "".join(c if ord(c) in cmap or c in "\n" else missing for c in text)


def _fit_cp1252(_pdf, text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_CP1252_FRIENDLY)
    return text.encode("cp1252", errors="replace").decode("cp1252")


# -- printing ------------------------------------------------------------------------


def print_receipt(pdf_path: Path, printer: str | None, timeout: float = PRINT_TIMEOUT_S, *,
                  document: str = "Le récépissé", sent: str = "Récépissé envoyé") -> PrintResult:
    """Send the file (the receipt's PDF, a ticket's text) to ``printer`` with ``lp``; a French
    message either way, naming ``document`` (« Le récépissé », « Le ticket »)."""
    kept = f"{document} est enregistré dans"
    where = str(Path(pdf_path).absolute())  # absolute: never read by lp as an option
    if not printer or not printer.strip():
        return PrintResult(False, f"Aucune imprimante configurée : {kept[:1].lower()}{kept[1:]} {where}.")
    lp = shutil.which("lp")
    if lp is None:
        return PrintResult(False, "Impression impossible : la commande « lp » (CUPS) est absente de ce poste. "
                                  f"{kept} {where}.")
    try:
        done = subprocess.run([lp, "-d", printer, where], capture_output=True, text=True,
                              timeout=timeout, check=False, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return PrintResult(False, f"L'imprimante « {printer} » ne répond pas (délai de {timeout:g} s dépassé). "
                                  f"{kept} {where}.")
    except OSError as exc:
        return PrintResult(False, f"Impression impossible ({exc.strerror or type(exc).__name__}). "
                                  f"{kept} {where}.")
    if done.returncode != 0:
        reason = _first_line(done.stderr) or f"code {done.returncode}"
        return PrintResult(False, f"L'impression sur « {printer} » a échoué : {reason}. "
                                  f"{kept} {where}.")
    return PrintResult(True, f"{sent} à l'imprimante « {printer} ».")


def _first_line(text: str) -> str:
    from counter.domain.text import printable

    line = next((part.strip() for part in (text or "").splitlines() if part.strip()), "")
    return printable(line)[:200]
