"""Bad servers over real HTTPS: malformed JSON, wrong content type, a 100 MB body, answers
about ids never sent, and a server certificate from another CA. Nothing is marked accepted
that was not; every record stays queued."""

from __future__ import annotations

import json
import uuid

import pytest
from aiohttp import web

from terminal.sync.client import PlatformClient
from terminal.sync.errors import MalformedResponse, ServerUntrusted
from terminal.sync.transport import Timeouts, TlsFiles
from terminal.sync.upload import Uploader
from tests.ledger.helpers import T0, open_ledger, sale
from tests.sync.badserver import BadServer, endless_body
from tests.sync.realserver import platform_records


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    server = BadServer(tmp_path_factory.mktemp("bad")).start()
    yield server
    server.stop()


def queued_sales(tmp_path, count=5):
    ledger = open_ledger(tmp_path)
    ids = [sale(ledger, 1000 + n, n).record.txn_id for n in range(count)]
    return ledger, ids


def states(ledger) -> set[str]:
    return {row[0] for row in ledger.db.execute("SELECT state FROM journal")}


async def broken_json(request):
    return web.Response(body=b'{"results": [{"id": ', content_type="application/json")


async def wrong_type(request):
    body = await request.json()
    results = [{"id": r["id"], "status": "accepted"} for r in body["records"]]
    return web.Response(text=json.dumps({"results": results}), content_type="text/html")


async def unknown_ids(request):
    body = await request.json()
    results = [{"id": r["id"], "status": "accepted"} for r in body["records"]]
    results.append({"id": str(uuid.uuid4()), "status": "accepted"})
    return web.json_response({"results": results})


async def only_unknown_ids(request):
    return web.json_response({"results": [{"id": str(uuid.uuid4()), "status": "accepted"}]})


async def huge_declared(request):
    return await endless_body(request, declared=True)


async def huge_chunked(request):
    return await endless_body(request, declared=False)


@pytest.mark.parametrize(
    "behaviour",
    [broken_json, wrong_type, unknown_ids, only_unknown_ids, huge_declared, huge_chunked],
)
def test_a_bad_answer_over_https_marks_nothing_accepted(bad, tmp_path, behaviour):
    bad.behaviour = behaviour
    ledger, _ = queued_sales(tmp_path)
    client = PlatformClient.connect(bad.url, TlsFiles(ca=bad.ca), Timeouts(5, 20))
    uploader = Uploader(ledger, client, lambda: T0)
    with pytest.raises(MalformedResponse):
        uploader.drain()
    assert states(ledger) == {"pending"} and ledger.queue()[0] == 5
    assert uploader.totals.accepted == 0
    client.close()
    ledger.close()


def test_a_server_certificate_from_another_ca_is_refused_before_anything_is_sent(
    server, device, bad
):
    """The device pins the platform CA from enrollment; a server with another CA's certificate
    (here: the bad server, which would accept everything) never gets a record."""
    bad.behaviour = unknown_ids
    before = bad.requests
    ledger = device.ledger()
    for n in range(3):
        sale_on(ledger, n)
    impostor = PlatformClient.connect(bad.url, device.tls, Timeouts(5, 10))
    with pytest.raises(ServerUntrusted):
        Uploader(ledger, impostor, lambda: T0).drain()
    assert bad.requests == before  # the TLS handshake failed: no request reached it
    assert states(ledger) == {"pending"}
    assert platform_records(server, device.device_id) == {}
    impostor.close()
    ledger.close()


def sale_on(ledger, n):
    from terminal.core.benefits import Benefits
    from tests.ledger.helpers import clock

    return ledger.record_sale(
        amount_won=1000 + n, method="mpm", benefits=Benefits(1, 1, 1), clock=clock(n), offline=False
    )
