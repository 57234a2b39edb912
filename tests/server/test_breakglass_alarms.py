"""Break-glass from the web (ask, approve by another role, raw beside redacted only inside the
window, every raw read logged) and the access alarms page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.server.conftest import Device, complete_gate, csrf_of, login, segment_zip, upload
from veil.exceptions import NotAuthenticated
from veil.server import queries
from veil.server.context import Context
from veil.server.sink import StoreSink
from veil.store.models import ObjectClass


def _raw_object(ctx: Context) -> str:
    assert isinstance(ctx.sink, StoreSink)
    stored = ctx.sink.store.put(
        b"raw footage bytes",
        klass=ObjectClass.RAW,
        owner="emp.one",
        recording_id="rec-1",
        segment=0,
        policy_version="1",
    )
    return stored.object_id


def test_raw_is_shown_only_inside_an_approved_window(
    client: TestClient, ctx: Context, device: Device
) -> None:
    complete_gate(ctx)
    upload(client, device, segment_zip())
    object_id = _raw_object(ctx)
    login(client, "ana.one")
    assert 'class="raw"' not in client.get("/recordings/rec-1").text
    assert client.get(f"/recordings/rec-1/raw/{object_id}").status_code == 403  # no window yet
    token = csrf_of(client, "/recordings/rec-1")
    asked = client.post("/recordings/rec-1/break-glass", data={"csrf": token, "reason": "ticket 4711"})
    assert asked.status_code == 303
    client.cookies.clear()
    login(client, "dpo.one")
    page = client.get("/break-glass").text
    request_id = re.search(r'id="approve-([0-9a-f]+)"', page)
    assert request_id and "ticket 4711" in page
    token = csrf_of(client, "/break-glass")
    assert client.post(f"/break-glass/{request_id.group(1)}/approve", data={"csrf": token}).status_code == 303
    assert client.get(f"/recordings/rec-1/raw/{object_id}").status_code == 403  # the approver's role may not
    client.cookies.clear()
    login(client, "ana.one")
    assert 'class="raw"' in client.get("/recordings/rec-1").text
    raw = client.get(f"/recordings/rec-1/raw/{object_id}")
    assert raw.status_code == 200 and raw.content == b"raw footage bytes"
    reads, _ = queries.ledger_entries(ctx, ("raw-access",))
    assert [(e.event["who"], e.event["approver"]) for e in reads] == [("ana.one", "dpo.one")]


def test_requester_cannot_approve_their_own_request(client: TestClient, ctx: Context) -> None:
    login(client, "dpo.one")  # privacy officers may ask and approve, never both for one request
    token = csrf_of(client, "/break-glass")
    # dpo.one has no REDACTED_OUTPUTS, so asks through the access package directly
    from veil.server.breakglass import breakglass

    req = breakglass(ctx).request("dpo.one", "rec-1", "audit")
    answer = client.post(f"/break-glass/{req.request_id}/approve", data={"csrf": token})
    assert answer.status_code == 403


def test_alarms_page_shows_an_access_by_a_revoked_account(
    client: TestClient, ctx: Context, device: Device
) -> None:
    complete_gate(ctx)
    upload(client, device, segment_zip())
    with ctx.session() as s:
        from veil.server.db import SegmentRow

        object_id = s.query(SegmentRow.object_id).scalar()
    ctx.directory.revoke("ana.one", by="adm.one", reason="left")
    try:
        ctx.sink.get(object_id, actor="ana.one")  # a leaver's stolen session tries the store
    except NotAuthenticated:
        pass
    else:
        raise AssertionError("a revoked account read a segment")
    login(client, "dpo.one")
    alarms = client.get("/api/v1/alarms").json()["alarms"]
    assert any(a["rule"] == "inactive-account" and a["account"] == "ana.one" for a in alarms), alarms
    assert "inactive-account" in client.get("/alarms").text
