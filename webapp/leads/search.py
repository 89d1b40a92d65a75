"""Word search over leads at scale: an index of the characters and character pairs of each lead's
summary and address, which narrows a search box word to a few candidate leads before the real
substring match runs on them (docs/architecture.md, "Word search").

Most Chinese words people search for are two characters long, and trigram indexes (PostgreSQL's
pg_trgm, SQLite's FTS5 trigram tokenizer) cannot narrow a word shorter than three. So each lead
gets a row in `lead_search` holding its *tokens*: every letter or digit, and every pair of adjacent
ones, of each field on its own (casefolded). A word's tokens are its own pairs (or its single
character); every lead whose text holds the word holds all of them, so the leads having them all
are a superset of the answer, and the list's `ILIKE` then keeps exactly today's results.

- PostgreSQL: `lead_search.grams` is a `tsvector` of the tokens under a GIN index; a word becomes
  the `tsquery` of its tokens joined by `&`.
- SQLite: `lead_search.grams` is the tokens separated by spaces; an FTS5 table (`ascii` tokenizer:
  every non-ASCII character and every ASCII letter or digit is part of a token, so each of our
  tokens is one FTS5 token as it is) indexes it and triggers keep it in step.

The rows follow the leads by themselves: after each flush, the leads inserted or whose summary or
address changed get their tokens written in the same transaction, whatever wrote them.
"""

from __future__ import annotations

import re

from sqlalchemy import cast, column, event, inspect, select, table
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session

from webapp.extensions import insert_for
from webapp.leads.models import Lead, LeadSearch

# Runs of letters and digits: what str.isalnum() accepts (\w without the underscore). Anything
# else separates tokens, so LIKE's own wildcards (% and _) in a query never become part of one.
_RUN = re.compile(r"[^\W_]+")
# A long query needs only some of its tokens to narrow well; the substring match checks the rest.
MAX_QUERY_TOKENS = 12
SQLITE_INDEX = "lead_search_fts"  # the FTS5 table (and its shadow tables' prefix) on SQLite
POSTGRESQL_INDEX = "ix_lead_search_grams"
INDEXED_FIELDS = ("summary", "address", "source_ref", "uuid")  # a change to one rewrites the row
# No reference (64) or uuid (36) is longer, and a tsquery token must stay under 2 KB.
EXACT_MAX_LENGTH = 64


def outside_the_models(name: str | None, type_: str, parent_names: dict) -> bool:
    """False for the index objects the migration adds by engine and the models do not declare (an
    alembic `include_name` filter: comparing the schema with the models must not see them)."""
    return not (name == POSTGRESQL_INDEX or (name or "").startswith(SQLITE_INDEX))


def _runs(text: str) -> list[str]:
    return _RUN.findall(text.casefold())


def _whole(value: str) -> str:
    """A value matched exactly, as one token: its letters and digits, casefolded."""
    return "".join(_runs(value))


def lead_tokens(lead_id: int, summary: str, address: str, source_ref: str, uuid: str) -> list[str]:
    """What the index holds for a lead: the characters and adjacent pairs of the summary and of the
    address, each on its own (a word spanning the end of one and the start of the other does not
    match), and the lead's number, reference and uuid whole, for the search box's exact matches."""
    tokens = {token for token in (str(lead_id), _whole(source_ref), _whole(uuid)) if token}
    for text in (summary, address):
        for run in _runs(text):
            tokens.update(run)
            tokens.update(run[start:start + 2] for start in range(len(run) - 1))
    return sorted(tokens)


def word_tokens(word: str) -> list[str]:
    """The tokens every lead containing `word` has: the pairs of each of its letter-and-digit runs,
    or the character of a one-character run. Empty when the word has no letter or digit."""
    tokens: dict[str, None] = {}  # an ordered set: a long word keeps its first tokens
    for run in _runs(word):
        pairs = [run[start:start + 2] for start in range(len(run) - 1)]
        tokens.update(dict.fromkeys(pairs or [run]))
    return list(tokens)[:MAX_QUERY_TOKENS]


def candidates(word: str, dialect: str, lead_number: int | None = None):
    """A SELECT of `lead_id`: the leads that may contain `word` or be the lead it names exactly
    (number, reference or uuid), all of them and a few more. None when the word has no letter or
    digit. On SQLite, FTS5 hands the ids back in order, so a walk by `lead_id` newest first stops
    after a page (docs/architecture.md, "Word search")."""
    tokens = word_tokens(word)
    if not tokens:
        return None
    exact = {str(lead_number)} if lead_number is not None else set()
    if len(word) <= EXACT_MAX_LENGTH:
        exact.add(_whole(word))
    exact = sorted(exact - set(tokens))
    # Each token quoted: PostgreSQL's '…' and FTS5's "…" are never read as operators or syntax.
    if dialect == "postgresql":
        every = " & ".join(f"'{token}'" for token in tokens)
        query = " | ".join([f"({every})", *(f"'{token}'" for token in exact)])
        return select(LeadSearch.lead_id).where(LeadSearch.grams.bool_op("@@")(cast(query, TSQUERY)))
    every = " AND ".join(f'"{token}"' for token in tokens)
    query = " OR ".join([f"({every})", *(f'"{token}"' for token in exact)])
    fts = table(SQLITE_INDEX, column("rowid"))
    return select(fts.c.rowid.label("lead_id")).where(column(SQLITE_INDEX).op("MATCH")(query))


def index_rows(leads) -> list[dict]:
    """`lead_search` rows for (id, summary, address, source_ref, uuid) tuples. A tsvector's text
    form and FTS5's content are both space-separated; a token never holds a space, quote, backslash
    or colon."""
    return [{"lead_id": lead[0], "grams": " ".join(lead_tokens(*lead))} for lead in leads]


def write_rows(connection, rows: list[dict]) -> None:
    """Insert or replace the rows (one statement)."""
    if not rows:
        return
    statement = insert_for(connection.dialect.name)(LeadSearch.__table__).values(rows)
    connection.execute(statement.on_conflict_do_update(
        index_elements=[LeadSearch.lead_id], set_={"grams": statement.excluded.grams}))


def _tokens_changed(lead: Lead) -> bool:
    state = inspect(lead)
    return any(state.attrs[name].history.has_changes() for name in INDEXED_FIELDS)


@event.listens_for(Session, "after_flush")
def _index_flushed_leads(session: Session, _flush_context) -> None:
    # In after_flush, new/dirty still list what this flush wrote and attribute history still holds
    # the change, so a lead is (re)indexed once per change of its words, in the same transaction.
    leads = [obj for obj in session.new if isinstance(obj, Lead)]
    leads += [obj for obj in session.dirty if isinstance(obj, Lead) and _tokens_changed(obj)]
    write_rows(session.connection(), index_rows(
        (lead.id, lead.summary, lead.address or "", lead.source_ref or "", lead.uuid) for lead in leads))
