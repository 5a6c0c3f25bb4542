"""`qr-terminal sync status` reads the running sync's snapshot file: a damaged or foreign file
says nothing, never "online" (hostile test M6: a JSON list crashed it; wrong field types printed
"link: online")."""

from __future__ import annotations

import json

import pytest

from terminal.sync.status import SyncStatus, load_status


@pytest.mark.parametrize(
    "content",
    [
        "[1, 2]",
        '"online"',
        '{"online": "yes"}',
        '{"online": true, "queue_depth": "many"}',
        '{"online": true, "last_contact_ms": -100000000000000000}',
        '{"online": true, "parked": true}',
        "not json",
    ],
)
def test_a_damaged_status_file_says_nothing(tmp_path, content):
    path = tmp_path / "sync-status.json"
    path.write_text(content)
    assert load_status(path) is None


def test_a_saved_status_reads_back(tmp_path):
    saved = SyncStatus(online=True, queue_depth=3, oldest_pending_ms=1_795_000_000_000, parked=1)
    path = tmp_path / "sync-status.json"
    path.write_text(json.dumps(saved.__dict__))
    assert load_status(path) == saved
