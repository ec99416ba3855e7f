"""``portal deals sweep-files``: files in the attachment storage that no attachment
refers to are removed once they are old enough; files in use, young files and
anything that is not the storage's own file are never touched; a second run, or
one on another host at the same time, finds nothing left to do."""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal_deals import storage, sweep
from portal_deals.models import DealAttachment

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HOUR = 3600


def age(path, seconds):
    """Make ``path`` look ``seconds`` old."""
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)
    return path


def orphan(data=b"left behind", seconds=2 * HOUR, extension="pdf"):
    """A stored file without a row, ``seconds`` old."""
    name = storage.save(data, storage.Kind("application/pdf", extension))
    return age(storage.path_of(name), seconds)


def attach(client, registration, name="quote.pdf"):
    response = client.post(f"/p/deals/{registration.id}/attachments",
                           data={"file": (io.BytesIO(PDF), name)}, content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.expire_all()
    return db.session.scalars(sa.select(DealAttachment).where(DealAttachment.filename == name)).one()


def run(portal_app, *args):
    return portal_app.test_cli_runner().invoke(args=["deals", "sweep-files", *args])


@pytest.fixture
def in_use(register, login_as):
    """An attachment whose file is two hours old: in use, so never swept."""
    item = attach(login_as("partner_user"), register())
    age(storage.path_of(item.stored_name), 2 * HOUR)
    return storage.path_of(item.stored_name)


def test_old_orphans_are_removed_and_files_in_use_and_young_ones_kept(portal_app, in_use):
    old = [orphan(b"a" * 2048), orphan(b"b" * 1024, extension="docx")]
    young = orphan(b"c", seconds=10 * 60)
    result = run(portal_app)
    assert result.exit_code == 0, result.output + result.stderr
    assert "Orphaned files older than 1h: 2 files, 3.0 KB (3072 bytes)" in result.output
    assert "Removed: 2 files, 3.0 KB (3072 bytes)" in result.output
    assert "Left alone: 1 in use, 1 younger than 1h, 0 not the portal's" in result.output
    assert not any(path.exists() for path in old)
    assert in_use.is_file() and young.is_file()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DealAttachment)) == 1


def test_it_is_idempotent(portal_app, in_use):
    orphan()
    assert "Removed: 1 file, 11 bytes" in run(portal_app).output
    again = run(portal_app)
    assert again.exit_code == 0
    assert "Orphaned files older than 1h: 0 files, 0 bytes" in again.output
    assert "Removed: 0 files, 0 bytes" in again.output
    assert in_use.is_file()


def test_a_dry_run_reports_and_removes_nothing(portal_app, in_use):
    path = orphan(b"x" * 100)
    result = run(portal_app, "--dry-run")
    assert result.exit_code == 0
    assert "Orphaned files older than 1h: 1 file, 100 bytes" in result.output
    assert "Dry run: nothing removed." in result.output and "Removed:" not in result.output
    assert path.is_file() and in_use.is_file()


def test_older_than_sets_the_age(portal_app):
    ninety_minutes, three_hours = orphan(seconds=90 * 60), orphan(seconds=3 * HOUR)
    result = run(portal_app, "--older-than", "2h")
    assert "older than 2h: 1 file" in result.output and "1 younger than 2h" in result.output
    assert ninety_minutes.is_file() and not three_hours.exists()
    assert "older than 30m: 1 file" in run(portal_app, "--older-than", "30m").output
    assert not ninety_minutes.exists()


@pytest.mark.parametrize("value, message", [
    ("30s", "too young: at least 1m"),
    ("0m", "too young: at least 1m"),
    ("soon", "is not an age"),
    ("-1h", "is not an age"),
    ("1w", "is not an age"),
    ("99999999d", "is not an age"),
])
def test_a_bad_or_too_young_age_is_refused_with_the_reason(portal_app, value, message):
    path = orphan(seconds=2 * HOUR)
    result = run(portal_app, "--older-than", value)
    assert result.exit_code == 2 and message in result.stderr
    assert path.is_file()


def test_a_crashed_uploads_temporary_file_is_swept_too(portal_app):
    folder = storage.folder()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / ("ab" * 16 + ".pdf.tmp")  # written, never renamed: the request died
    tmp.write_bytes(b"half an upload")
    age(tmp, 2 * HOUR)
    assert "Removed: 1 file" in run(portal_app).output
    assert not tmp.exists()


def test_nothing_outside_the_storages_own_files_is_touched(portal_app, tmp_path):
    folder = storage.folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = "cd" * 16 + ".pdf"
    outside = tmp_path / name
    outside.write_bytes(b"not the portal's")
    beside = folder.parent / name  # the uploads folder itself, next to deals/
    beside.write_bytes(b"another plugin's")
    nested = folder / "archive"
    nested.mkdir()
    (nested / name).write_bytes(b"in a subfolder")
    link = folder / ("ef" * 16 + ".pdf")
    link.symlink_to(outside)
    foreign = [folder / "README", folder / ".nfs0000000012345678", folder / ("AB" * 16 + ".pdf"),
               folder / ("ab" * 16 + ".exe")]
    for path in foreign:
        path.write_bytes(b"someone else's")
    for path in (outside, beside, nested / name, nested, link, *foreign):
        age(path, 30 * 86400)
    result = run(portal_app, "--older-than", "1m")
    assert result.exit_code == 0
    assert "Orphaned files older than 1m: 0 files" in result.output
    assert "6 not the portal's" in result.output  # the subfolder, the link and the four foreign names
    assert outside.read_bytes() == b"not the portal's" and beside.is_file()
    assert (nested / name).is_file() and link.is_symlink()
    assert all(path.is_file() for path in foreign)


def test_no_storage_folder_yet_is_nothing_to_do(portal_app):
    assert not storage.folder().exists()
    result = run(portal_app)
    assert result.exit_code == 0 and "0 files, 0 bytes" in result.output
    assert not storage.folder().exists()  # not created either


def test_a_file_another_host_removed_first_is_no_error(portal_app, monkeypatch):
    first, second = orphan(), orphan()
    real_remove = storage.remove

    def another_host_was_faster(name):
        os.unlink(storage.path_of(name))  # the other sweep removes it between listing and removal
        return real_remove(name)

    monkeypatch.setattr(storage, "remove", another_host_was_faster)
    result = run(portal_app)
    assert result.exit_code == 0, result.stderr
    assert "Orphaned files older than 1h: 2 files" in result.output
    assert "Removed: 0 files" in result.output
    assert "Already gone (removed by another run meanwhile): 2" in result.output
    assert not first.exists() and not second.exists()


def test_a_file_that_vanishes_while_listing_is_skipped(portal_app, monkeypatch):
    path = orphan()
    real_check = storage.is_stored_name

    def removed_meanwhile(name):
        storage.path_of(name).unlink(missing_ok=True)  # between the listing and the stat
        return real_check(name)

    monkeypatch.setattr(storage, "is_stored_name", removed_meanwhile)
    result = run(portal_app)
    assert result.exit_code == 0 and "older than 1h: 0 files" in result.output and not path.exists()


def test_a_file_that_cannot_be_removed_is_reported_and_the_rest_removed(portal_app, monkeypatch):
    stuck, loose = orphan(), orphan()
    real_remove = storage.remove

    def refuse_one(name):
        if name == stuck.name:
            raise PermissionError(13, "Permission denied", name)
        return real_remove(name)

    monkeypatch.setattr(storage, "remove", refuse_one)
    result = run(portal_app)
    assert result.exit_code == 1
    assert f"Could not remove {stuck.name}: Permission denied" in result.stderr
    assert "Removed: 1 file" in result.output
    assert stuck.is_file() and not loose.exists()


def test_the_leftover_of_a_failed_removal_after_a_deletion_is_swept(portal_app, register, login_as, monkeypatch):
    """The case the command exists for: the attachment was deleted, its file
    could not be removed after the commit (logged), a later sweep removes it."""
    registration = register()
    client = login_as("partner_user")
    item = attach(client, registration)
    def refuse(name):
        raise PermissionError(13, "Permission denied", name)

    monkeypatch.setattr(storage, "delete", refuse)
    assert client.post(f"/p/deals/{registration.id}/attachments/{item.id}/delete").status_code == 302
    monkeypatch.undo()
    path = age(storage.path_of(item.stored_name), 2 * HOUR)
    assert path.is_file()
    assert "Removed: 1 file" in run(portal_app).output
    assert not path.exists()


def test_lookups_go_in_batches(portal_app, register, login_as):
    item = attach(login_as("partner_user"), register())
    age(storage.path_of(item.stored_name), 2 * HOUR)
    orphans = [orphan() for _ in range(4)]
    report = sweep.sweep_orphans(timedelta(hours=1), batch=2)
    assert (report.orphans, report.removed, report.referenced) == (4, 4, 1)
    assert not any(path.exists() for path in orphans)
    assert storage.path_of(item.stored_name).is_file()


def test_two_sweeps_at_once_remove_each_file_once_and_fail_nowhere(portal_app):
    import threading

    paths = [orphan(b"x" * 10) for _ in range(200)]
    start = threading.Barrier(2)
    reports = []

    def sweep_on_another_host():
        with portal_app.app_context():
            start.wait()
            reports.append(sweep.sweep_orphans(timedelta(hours=1), batch=20))

    threads = [threading.Thread(target=sweep_on_another_host) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(reports) == 2 and all(r.failed == [] for r in reports)
    assert sum(r.removed for r in reports) == 200  # each file removed by exactly one of them
    assert all(r.removed + r.already_gone <= r.orphans for r in reports)
    assert not any(path.exists() for path in paths)
