"""The base of every form: Flask-WTF's, with WTForms' own messages in the page's language.

Flask-WTF reads WTForms' message catalogue from disk for every request that builds a form: about
0.7 ms, a third of the sign-in page's CPU (docs/architecture.md, Performance). The catalogue only
changes with a deploy, so it is read once per language per process.
"""

from __future__ import annotations

from functools import cache

from babel.support import Translations
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


@cache
def _wtforms_catalogue(locale: str) -> Translations:
    return Translations.load(messages_path(), [locale], domain="wtforms")


def wtforms_translations() -> Translations:
    return _wtforms_catalogue(str(get_locale()))


class AppForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return wtforms_translations()
