"""Killing the process in the middle of an upload leaves no partial rows (one transaction)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import textwrap

import pandas as pd

from wijkmonitor.local import accounts, uploads
from wijkmonitor.local.models import AuditEntry, LocalUpload, LocalValue
from wijkmonitor.local.resolvers import default_codes_provider

SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from sqlalchemy import event
    from wijkmonitor.local import accounts, db, uploads

    url, csv_path, marker = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    engine = db.get_engine(url)
    chunks = []

    @event.listens_for(engine, "after_cursor_execute")
    def pause(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO LOCAL_VALUES"):
            chunks.append(1)
            if len(chunks) == 2:       # two chunks are in the database, uncommitted
                marker.write_text("inserting")
                time.sleep(120)        # the test kills us here

    with db.session_scope(url) as s:
        uploads.upload(s, accounts.get_user(s, "utrecht"), Path(csv_path), None, "GM0344",
                       source="kill test")
    print("committed")
""")


def _big_upload(tmp_path) -> tuple:
    codes = sorted(default_codes_provider("GM0344"))
    frame = pd.DataFrame([(c, "inwoners", y, 100 + i) for i, c in enumerate(codes)
                          for y in range(1950, 2000)],
                         columns=["region", "indicator", "year", "value"])
    path = tmp_path / "groot.csv"
    frame.to_csv(path, index=False, sep=";")
    return path, len(frame)


def test_sigkill_during_upload_leaves_nothing(db_url, Session, users, rows, tmp_path):
    path, n = _big_upload(tmp_path)
    assert n > 3 * uploads.INSERT_CHUNK
    script, marker = tmp_path / "upload.py", tmp_path / "marker"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), db_url, str(path), str(marker)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "upload never reached the insert"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert b"committed" not in proc.stdout.read()
    assert rows(LocalValue) == 0 and rows(LocalUpload) == 0
    assert rows(AuditEntry) == 5  # only the user accounts of the fixture

    # the database is intact: the same file uploads fine afterwards
    with Session.begin() as s:
        uploads.upload(s, accounts.get_user(s, "utrecht"), path, None, "GM0344",
                       source="tweede poging")
    assert rows(LocalValue) == n and rows(LocalUpload) == 1
