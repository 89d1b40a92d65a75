"""The audit log is hash-chained: `flask audit verify` finds any changed, deleted or reordered entry
(issue 10). Edits are made in SQL, as someone with database access would."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text

from tests.conftest import Browser
from tests.factories import commit, make_station, make_user
from webapp.audit.models import AuditEntry
from webapp.audit.services import record, verify_chain
from webapp.extensions import db
from webapp.org.models import Role


@pytest.fixture
def demo(app_ctx, make_client):
    """The demo station, and a morning's worth of audited actions on it."""
    runner = app_ctx.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    for username in ("supervisor", "dvteam", "officer", "admin"):
        browser = Browser(make_client())
        browser.login(username, "beatbook-demo")
        browser.logout()
    Browser(make_client()).login("officer", "not the password")
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) >= 9
    return runner


def _verify(runner):
    db.session.remove()  # the command must see what SQL left, not this session's cache
    return runner.invoke(args=["audit", "verify"])


def _seqs() -> list[int]:
    return list(db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))


def test_verify_passes_on_demo_data(demo):
    result = _verify(demo)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_verify_finds_an_edited_entry(demo):
    db.session.execute(text("UPDATE audit_entry SET address = '10.0.0.99' WHERE seq = 3"))
    commit()
    result = _verify(demo)
    assert result.exit_code == 1
    assert "#3 was changed" in result.output


def test_verify_finds_a_deleted_entry(demo):
    db.session.execute(text("DELETE FROM audit_entry WHERE seq = 4"))
    commit()
    result = _verify(demo)
    assert result.exit_code == 1
    assert "#4 is missing" in result.output


def test_verify_finds_deleted_newest_entries(demo):
    last = _seqs()[-1]
    db.session.execute(text("DELETE FROM audit_entry WHERE seq >= :s"), {"s": last - 1})
    commit()
    result = _verify(demo)
    assert result.exit_code == 1
    assert f"#{last - 1}" in result.output and "missing" in result.output


def test_verify_finds_two_swapped_entries(demo):
    # Swap the places of entries 2 and 5 (through a free number: seq is unique).
    for old, new in ((2, -1), (5, 2), (-1, 5)):
        db.session.execute(text("UPDATE audit_entry SET seq = :new WHERE seq = :old"),
                           {"old": old, "new": new})
    commit()
    result = _verify(demo)
    assert result.exit_code == 1
    assert "#2" in result.output


def test_verify_finds_rewritten_history_that_keeps_each_hash_valid(demo):
    """Re-hashing one edited entry is not enough: the next entry still names the old hash."""
    from webapp.audit.services import hash_of

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.seq == 3))
    entry.address = "10.6.6.6"
    entry.entry_hash = hash_of(entry)
    commit()
    result = _verify(demo)
    assert result.exit_code == 1
    assert "#4 does not follow" in result.output


def test_parallel_writers_do_not_fork_the_chain(app, app_ctx):
    station = make_station()
    people = [make_user(station, Role.OFFICER) for _ in range(6)]
    commit()
    ids = [p.id for p in people]
    start = threading.Barrier(len(ids))
    errors = []

    def write(user_id: int) -> None:
        with app.app_context():
            start.wait()
            try:
                for n in range(5):
                    record(None, "probe", "user", user_id, n=n)
                    db.session.commit()
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=write, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = _seqs()
    assert seqs == list(range(1, len(seqs) + 1))
    report = verify_chain()
    assert report.intact, report.problem
    assert report.entries == len(seqs)


def test_the_migration_chains_entries_written_before_it(app_ctx):
    """Entries from before the chain existed are chained in the order they were written."""
    from flask_migrate import downgrade, upgrade

    station = make_station()
    officer = make_user(station, Role.OFFICER)
    commit()
    officer_id = officer.id
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))  # making the officer
    db.session.remove()  # no open transaction may hold a lock the schema change waits for
    downgrade(revision="4651c056fc6a")
    with db.engine.begin() as connection:
        for n, at in enumerate(("2026-11-01 08:00:00.000001", "2026-11-02 09:30:00", "2026-11-03 10:00:00")):
            connection.execute(text(
                "INSERT INTO audit_entry (at, actor_id, action, object_type, object_id, detail, address) "
                "VALUES (:at, :actor, 'view', 'lead', :n, '{\"dv\": true}', '10.0.0.1')"),
                {"at": at, "actor": officer_id, "n": n})
    upgrade()
    db.session.remove()
    total = before + 3
    assert _seqs() == list(range(1, total + 1))
    report = verify_chain()
    assert report.intact and report.entries == total, report.problem
    record(None, "probe", "user", officer_id)
    commit()
    assert verify_chain().entries == total + 1


# --- anchors: the head copied outside the database --------------------------------------------


@pytest.fixture
def anchored(demo, app_ctx, tmp_path):
    """The demo station with anchoring on, and the head anchored once by the sweep."""
    from webapp.jobs import STALE_AFTER, run_sweep

    path = tmp_path / "anchors.jsonl"
    app_ctx.config["BEATBOOK_AUDIT_ANCHORS"] = str(path)
    try:
        assert run_sweep(STALE_AFTER)["audit_anchored"] == 1
        assert run_sweep(STALE_AFTER)["audit_anchored"] == 0  # head unchanged: nothing new
        yield demo, path
    finally:
        app_ctx.config["BEATBOOK_AUDIT_ANCHORS"] = ""


def test_anchors_catch_a_rewritten_tail_with_every_hash_recomputed(anchored):
    """What a database admin could do undetected without anchors: edit the newest entry and
    recompute its hash and the head's."""
    from webapp.audit.models import AuditChainHead
    from webapp.audit.services import hash_of

    runner, _ = anchored
    assert _verify(runner).exit_code == 0
    last = db.session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    last.address = "10.6.6.6"
    last.entry_hash = hash_of(last)
    db.session.execute(text("UPDATE audit_chain_head SET last_hash = :h"), {"h": last.entry_hash})
    commit()
    assert verify_chain().intact  # the chain alone cannot tell
    assert db.session.get(AuditChainHead, 1).last_hash == last.entry_hash
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"#{last.seq} differs from its anchor" in result.output


def test_anchors_catch_a_deleted_tail_with_the_head_moved_back(anchored):
    runner, _ = anchored
    last = _seqs()[-1]
    kept = db.session.scalar(select(AuditEntry).where(AuditEntry.seq == last - 2))
    db.session.execute(text("DELETE FROM audit_entry WHERE seq > :s"), {"s": last - 2})
    db.session.execute(text("UPDATE audit_chain_head SET seq = :s, last_hash = :h"),
                       {"s": last - 2, "h": kept.entry_hash})
    commit()
    assert verify_chain().intact  # the chain alone cannot tell
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"anchored at #{last}" in result.output and "deleted" in result.output


def test_new_entries_after_an_anchor_verify_and_are_anchored_next(anchored):
    from webapp.audit.anchors import read_anchors

    runner, path = anchored
    Browser(runner.app.test_client()).login("officer", "beatbook-demo")  # entries after the anchor
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "1 anchors checked" in result.output
    assert runner.invoke(args=["audit", "anchor"]).exit_code == 0
    anchors = read_anchors(path)
    assert [a.seq for a in anchors] == [anchors[0].seq, _seqs()[-1]]
    assert anchors[0].seq < anchors[1].seq


def test_an_unreadable_anchor_file_fails_verification(anchored):
    runner, path = anchored
    with path.open("a") as out:
        out.write("{not json\n")
    result = _verify(runner)
    assert result.exit_code == 2
    assert "unreadable" in result.output
