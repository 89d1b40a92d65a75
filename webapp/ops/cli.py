"""`flask --app wsgi backup DIR` and `flask --app wsgi restore DIR` (webapp/ops/backup.py)."""

from __future__ import annotations

from pathlib import Path

import click

from webapp.ops.backup import BackupError, make_backup, restore_backup


@click.command("backup", help="Back up the database and the instance files that cannot be rebuilt "
                              "(keys, audit anchors) into DIRECTORY (new or empty), with a manifest. "
                              "Safe while the app runs.")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def backup(directory: Path) -> None:
    try:
        manifest = make_backup(directory)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backed up to {directory}: {manifest.engine} at revision {manifest.revision}, "
               f"{manifest.rows} rows in {len(manifest.tables)} tables; files: {', '.join(manifest.files)}")


@click.command("restore", help="Restore a backup made by `backup` into an empty database, after checking "
                               "every file's SHA-256; then checks every table's row count and the audit "
                               "chain. Restart every node and worker afterwards.")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace a database that has data (stop every node and worker first).")
@click.option("--upgrade", is_flag=True,
              help="Accept a backup of an older schema revision and migrate it after the restore.")
def restore(directory: Path, force: bool, upgrade: bool) -> None:
    try:
        report = restore_backup(directory, force=force, upgrade=upgrade)
    except BackupError as error:
        raise click.ClickException(f"{error}") from error
    manifest = report.manifest
    click.echo(f"Restored {manifest.rows} rows in {len(manifest.tables)} tables (counts match the manifest) "
               f"from {directory}, made {manifest.created_at} at revision {manifest.revision}.")
    if report.upgraded_to:
        click.echo(f"Migrated to revision {report.upgraded_to}.")
    click.echo(f"Files put in place: {', '.join(report.files) or 'none'}.")
    if report.kept_aside:
        click.echo(f"Files they replaced, kept beside them: {', '.join(report.kept_aside)}.")
    if report.anchors_skipped:
        click.echo("The backup's audit anchors were not restored: BEATBOOK_AUDIT_ANCHORS is off here.")
    if not report.audit.intact:
        click.echo(f"Audit log BROKEN after the restore: {report.audit.problem}", err=True)
        raise SystemExit(1)
    click.echo(f"Audit log intact: {report.audit.entries} entries. Restart every node and worker now: "
               "they hold the keys they read at start.")
