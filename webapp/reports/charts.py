"""Geometry of the server-drawn bar charts (templates/reports/_charts.html), shared with its tests.

SVG text does not wrap, and its width is the font's business: a label is cut to what surely fits
before the bars start, counting a wide (CJK, full-width) character as 1 em and any other as 0.65 em
(wider than any Latin letter of the sans fonts phones use but W and M, and labels are words).
The full label stays in the row's <title> and in the table behind the chart.
"""

from __future__ import annotations

import unicodedata

FONT = 11.0  # px in the SVG's units: .bar-label in static/css/app.css
BAR_X = 110.0  # where the bars start
GAP = 4.0  # between a label's end and its bar
ELLIPSIS = "…"


def em_width(text: str) -> float:
    """The width of `text` in em, by the rule above (an upper bound for the fonts we expect)."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.65 for ch in text)


def fit_label(label: str, width: float = BAR_X - GAP, font: float = FONT) -> str:
    """`label`, or its longest start + "…" that fits in `width` px at `font` px."""
    room = width / font
    if em_width(label) <= room:
        return label
    room -= em_width(ELLIPSIS)
    cut = ""
    for ch in label:
        if em_width(cut + ch) > room:
            break
        cut += ch
    return cut.rstrip() + ELLIPSIS
