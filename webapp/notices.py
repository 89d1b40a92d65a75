"""Notices: how any feature tells people that something needs them, without knowing the inbox.

A feature registers its notification kinds (a name and a neutral title) and raises a `Notice`
about one of its records (the subject: a kind and an id, with the link to open it). The notify
feature listens, stores one inbox entry per person and pushes it; it never learns what a lead,
a case or a letter is. Neutral words only: a notice never carries names or case details.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from blinker import Namespace
from flask import current_app, has_request_context, url_for

_signals = Namespace()
# sender: the Notice; receivers get `recipients` and answer how many people were newly told.
notice_raised = _signals.signal("notice-raised")

_TITLES: dict[str, object] = {}


@dataclass(frozen=True)
class Notice:
    kind: str  # a registered notification kind
    subject_kind: str  # what the notice is about, e.g. "lead"
    subject_id: int | None
    link: str  # where opening it leads (a path)
    text: object  # neutral words, a lazy string: made in each reader's language when stored
    occurrence: str = ""  # tells repeats of the same event (deduplicated) from a new one


def register_kinds(titles: dict[str, object]) -> None:
    """A feature's notification kinds and their (lazy, translated) titles."""
    for kind, title in titles.items():
        if _TITLES.get(str(kind), title) is not title:
            raise ValueError(f"notification kind {kind!r} is registered twice")
        _TITLES[str(kind)] = title


def title_of(kind: str) -> object:
    return _TITLES.get(kind, kind)


def announce(recipients: Iterable, notice: Notice) -> int:
    """Tell `recipients` (people); returns how many of them are told now (0: all were before)."""
    results = notice_raised.send(notice, recipients=list(recipients))
    return sum(result or 0 for _receiver, result in results)


def link_to(endpoint: str, **values) -> str:
    """A path for a notice's link, in a request or in the job worker (which has none)."""
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)
