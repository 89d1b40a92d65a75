"""The form macro writes plain selects itself (faster than WTForms' widget): it must write what
WTForms would, option for option, groups, the selected one, `required` and the error attributes."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask import render_template_string
from sqlalchemy import select
from wtforms import SelectChoice

from webapp.extensions import db
from webapp.leads.intake import build_desk_form, build_report_form
from webapp.org.models import User


class Tags(HTMLParser):
    """Each tag with its attributes as a set: the order of attributes does not matter in HTML."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(("start", tag, frozenset(attrs)))

    def handle_endtag(self, tag):
        self.tags.append(("end", tag))

    def handle_data(self, data):
        if data.strip():
            self.tags.append(("text", data.strip()))


def _both(field) -> tuple[list, list]:
    aria = {"aria-invalid": "true", "aria-describedby": field.id + "-err"} if field.errors else {}
    ours = render_template_string('{% import "_macros/forms.html" as forms %}{{ forms.select(f) }}', f=field)
    return Tags(ours).tags, Tags(str(field(**aria))).tags


@pytest.mark.parametrize("who", ["volunteer", "officer"])
def test_the_macro_writes_every_select_as_wtforms_does(demo_station, who):
    with demo_station.test_request_context():
        person = db.session.scalar(select(User).where(User.username == who))
        form = build_report_form(person) if who == "volunteer" else build_desk_form(person)
        selects = [f for f in form if f.type == "SelectField"]
        assert selects
        for field in selects:
            field.data = field.choices[-1].value if isinstance(field.choices[-1], SelectChoice) else None
            ours, theirs = _both(field)
            assert ours == theirs, field.name
            field.errors = ["wrong"]
            ours, theirs = _both(field)
            assert ours == theirs, field.name
        if who == "officer":
            assert form.grid_id.has_groups(), "the desk form's grids come in groups of their community"
