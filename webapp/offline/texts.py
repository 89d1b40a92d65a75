"""The words the offline script shows, rendered once per language per process.

They are the same on every page (about forty translated strings), so rendering them for each
request cost a fifth of a plain page's CPU (docs/architecture.md, Performance). They change only
with the catalogue, which changes only with a deploy, i.e. a new process.
"""

from __future__ import annotations

from flask import render_template
from flask_babel import get_locale
from markupsafe import Markup

_rendered: dict[str, Markup] = {}


def offline_text() -> Markup:
    locale = str(get_locale())
    text = _rendered.get(locale)
    if text is None:
        text = _rendered[locale] = Markup(render_template("offline/_text.html"))
    return text
