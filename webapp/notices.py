"""Notices: how any feature tells people that something needs them, without knowing the inbox.

A feature registers its notification kinds (a name and a neutral title) and raises a `Notice`
about one of its records (the subject: a kind and an id, with the link to open it). The notify
feature listens, stores one inbox entry per person and pushes it; it never learns what a lead,
a case or a letter is. Neutral words only: a notice never carries names or case details.

The signed-in inbox may say more: a feature registers a describer for its subject kind, asked at
reading time with the reader, so the words follow what the reader may see now (compartments
included) and never reach a push message or the stored row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from blinker import Namespace
from flask import current_app, has_request_context, url_for

_signals = Namespace()
# sender: the Notice; receivers get `recipients` and answer how many people were newly told.
notice_raised = _signals.signal("notice-raised")

_TITLES: dict[str, object] = {}
# subject kind -> (reader, subject ids) -> {id: words} for the subjects the reader may see.
Describer = Callable[[object, list[int]], dict[int, str]]
_DESCRIBERS: dict[str, Describer] = {}


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


def register_describer(subject_kind: str, describe: Describer) -> None:
    """How a feature names its records in the signed-in inbox ("邻里纠纷 · 幸福里社区")."""
    if _DESCRIBERS.get(subject_kind, describe) is not describe:
        raise ValueError(f"subject kind {subject_kind!r} already has a describer")
    _DESCRIBERS[subject_kind] = describe


def describe(reader, subjects: Iterable[tuple[str, int | None]]) -> dict[tuple[str, int], str]:
    """Words for each (subject kind, id) `reader` may see; the others are left out (neutral)."""
    wanted: dict[str, set[int]] = {}
    for kind, subject_id in subjects:
        if subject_id is not None and kind in _DESCRIBERS:
            wanted.setdefault(kind, set()).add(subject_id)
    words: dict[tuple[str, int], str] = {}
    for kind, ids in wanted.items():
        for subject_id, text in _DESCRIBERS[kind](reader, sorted(ids)).items():
            words[(kind, subject_id)] = text
    return words


def announce(recipients: Iterable, notice: Notice) -> int:
    """Tell `recipients` (people); returns how many of them are told now (0: all were before)."""
    results = notice_raised.send(notice, recipients=list(recipients))
    return sum(result or 0 for _receiver, result in results)


def link_to(endpoint: str, **values) -> str:
    """A path for a notice's link, in a request or in the job worker (which has none)."""
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)
