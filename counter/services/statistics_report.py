"""The monthly statistics report (`counter stats --pdf FILE --month YYYY-MM`): the
screen's totals and charts on A4, bars drawn with fpdf2's rectangles, each value
written beside its bar. Rendered by whoever runs the command, from the figures the
service (or the database) gave: aggregates only, no name."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from collections.abc import Sequence

from counter.domain import statistics as st

LABEL_W = 62.0  # mm: the bars' labels
BAR_W = 70.0  # mm: the longest bar
ROW_H = 5.0  # mm


def month_words(query: st.StatsQuery) -> str:
    from counter.domain.periods import period_words

    return period_words("month", query.since, query.until)


def render(stats: st.Statistics, town: str = "", fonts: Sequence[Path] | None = None) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    from counter.services.receipts import _choose_font

    q = stats.query
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(f"Statistiques du guichet, {month_words(q)}")
    pdf.set_creator("counter")
    # The period's end, not the rendering time: the same figures give the same file.
    pdf.set_creation_date(datetime.combine(q.until, time(12), tzinfo=UTC))
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(auto=False)
    family, fit = _choose_font(pdf, fonts)
    pdf.add_page()

    def line(text: str, size: float = 10, height: float = 5.5, grey: bool = False) -> None:
        pdf.set_font(family, "", size)
        pdf.set_text_color(90, 90, 90) if grey else pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(0, height, fit(pdf, text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line(f"Statistiques du guichet — {month_words(q)}", size=16, height=9)
    line(f"{town + ' · ' if town else ''}{st.period_text(q)} · "
         f"{'site ' + q.site if q.site else 'tous les sites'} · "
         f"{'agent ' + q.agent if q.agent else 'tous les agents'}", grey=True)
    pdf.ln(2)
    for text in st.summary_lines(stats):
        line(text.strip(), size=11)
    for bars in st.charts(stats):
        if not bars.labels:
            continue
        needed = 12 + ROW_H * len(bars.labels)
        if pdf.get_y() + needed > pdf.h - 16:
            pdf.add_page()
        pdf.ln(4)
        line(bars.title, size=12, height=7)
        top = max(bars.values) or 1.0
        pdf.set_font(family, "", 9)
        for label, value, text in zip(bars.labels, bars.values, bars.texts, strict=True):
            y = pdf.get_y()
            pdf.set_text_color(0, 0, 0)
            pdf.cell(LABEL_W, ROW_H, fit(pdf, label))
            width = BAR_W * value / top
            if width > 0:
                pdf.set_fill_color(70, 110, 160)
                pdf.rect(pdf.l_margin + LABEL_W, y + 0.8, width, ROW_H - 1.6, style="F")
            pdf.set_xy(pdf.l_margin + LABEL_W + width + 1.5, y)
            pdf.cell(0, ROW_H, fit(pdf, text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(pdf.h - 14)
    line("Agrégats seulement : aucun nom, aucune personne. Document généré par counter stats.", size=8, grey=True)
    return bytes(pdf.output())
