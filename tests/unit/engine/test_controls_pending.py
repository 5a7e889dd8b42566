"""Control requests stay pending for each bot until that bot's runtime has handled them."""

from __future__ import annotations

from aegis.engine.controls import DONE, REQUESTED, pending_requests
from aegis.store import AuditEntry


def _request(request_id: str, ts_ns: int, scope: str = "tenant:acme") -> AuditEntry:
    return AuditEntry("alice", "kill", REQUESTED, ts_ns, {"request_id": request_id,
                                                          "scope": scope})  # fmt: skip


def _done(request_id: str, bot_id: str | None) -> AuditEntry:
    details: dict[str, object] = {"request_id": request_id}
    if bot_id is not None:
        details["bot_id"] = bot_id
    return AuditEntry("alice", "kill", DONE, 99, details)


def test_a_tenant_request_one_bot_handled_is_still_pending_for_the_others() -> None:
    entries = [_request("r1", 1), _request("r2", 2), _done("r1", "A")]
    assert [r.request_id for r in pending_requests(entries, "B")] == ["r1", "r2"]
    assert [r.request_id for r in pending_requests(entries, "A")] == ["r2"]
    # the tenant-wide view (aegis status): handled once is handled
    assert [r.request_id for r in pending_requests(entries)] == ["r2"]


def test_an_outcome_without_a_bot_counts_for_every_bot() -> None:
    entries = [_request("r1", 1), _done("r1", None)]
    assert pending_requests(entries, "B") == []
