"""The workspace pages: same permissions as the API, exact amounts, a Sankey that conserves value.

Hand-made runs give figures computed by hand; the demo (real importers, clustering and tracing
on the generated three-chain incident) checks the Sankey against every model's endpoints.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from html import unescape
from typing import Any

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from transaction_tracking import audit
from transaction_tracking.models import (
    Case,
    CaseMember,
    StolenAmount,
    TraceEndpoint,
    TraceRun,
    TransactionChain,
)
from transaction_tracking.runs import parse_result
from user_management.models import CustomUser
from visualization.sankey import FEE, HELD, build_sankey, endpoint_totals
from visualization.summaries import percent

CONSERVING = {"haircut", "fifo", "lifo", "tiho"}
U256_MAX = 2**256 - 1
# 2**256 - 1 wei, written out by hand: 78 digits, the last 18 after the point.
U256_MAX_ETH = "115792089237316195423570985008687907853269984665640564039457.584007913129639935"


def flow(tx: str, index: int, src: str, dst: str, amount: int, hop: int) -> dict[str, Any]:
    return {
        "tx": tx * 32,
        "index": index,
        "from": src,
        "to": dst,
        "amount": str(amount),
        "hop": hop,
    }


def result_doc() -> dict[str, Any]:
    """Source 1000 sat: A→B 1000, B→Exchange 600, B→C 390 (10 fee); C holds 390.

    Endpoints: Exchange 600, C 390 held, 10 fee (no address, as for UTXO fees).
    """
    return {
        "chain": "btc",
        "asset": "native",
        "decimals": 8,
        "model": "fifo",
        "direction": "forward",
        "sources": ["aa" * 32 + ":0"],
        "source_amount": "1000",
        "flows": [
            {
                "tx": "aa" * 32,
                "index": 0,
                "from": "1Victim",
                "to": "1Thief",
                "amount": "1000",
                "hop": 0,
            },
            {
                "tx": "bb" * 32,
                "index": 0,
                "from": "1Thief",
                "to": "3Exch",
                "amount": "600",
                "hop": 1,
            },
            {
                "tx": "bb" * 32,
                "index": 1,
                "from": "1Thief",
                "to": "1Keep",
                "amount": "390",
                "hop": 1,
            },
        ],
        "endpoints": [
            {
                "address": "3Exch",
                "entity": "Alpha Exchange",
                "category": "exchange",
                "amount": "600",
                "kind": "labeled",
            },
            {
                "address": "1Keep",
                "entity": None,
                "category": None,
                "amount": "390",
                "kind": "holding",
            },
            {"address": None, "entity": None, "category": None, "amount": "10", "kind": "fee"},
        ],
        "summary": {
            "by_entity": {"Alpha Exchange": "600"},
            "holding": "390",
            "fee": "10",
            "limit": "0",
        },
        "warnings": ["a warning the page must show"],
        "parameters": {"model": "fifo", "sources": ["aa" * 32 + ":0"]},
    }


def add_run(case: Case, user: CustomUser, doc: dict[str, Any], model: str = "fifo") -> TraceRun:
    run = TraceRun.objects.create(
        case=case,
        chain=doc["chain"],
        asset=doc["asset"],
        model=model,
        parameters={"sources": doc["sources"], "name": "stolen coins"},
        status=TraceRun.Status.DONE,
        result=doc,
        data_snapshot={"btc": 850000},
        created_by=user,
    )
    flows, endpoints = parse_result(doc, doc["asset"])
    for row in [*flows, *endpoints]:
        row.run = run
    TransactionChain.objects.bulk_create(flows)
    TraceEndpoint.objects.bulk_create(endpoints)
    return run


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    owner = CustomUser.objects.create_user("owner", password="pw-owner-1", is_investigator=True)
    viewer = CustomUser.objects.create_user("viewer", password="pw-viewer-1")
    outsider = CustomUser.objects.create_user("outsider", password="pw-out-1")
    admin = CustomUser.objects.create_superuser("root", password="pw-root-1")
    case = Case.objects.create(title="Hot wallet drain", owner=owner, chains=["btc", "eth"])
    CaseMember.objects.create(case=case, user=owner, role="owner")
    CaseMember.objects.create(case=case, user=viewer, role="viewer")
    StolenAmount.objects.create(case=case, chain="btc", amount=13172688380, decimals=8)
    StolenAmount.objects.create(
        case=case, chain="eth", asset="native", amount=U256_MAX, decimals=18
    )
    run = add_run(case, owner, result_doc())
    audit.record("case.create", "Case", case.pk, {"title": case.title}, user=owner)
    other = Case.objects.create(title="Someone else's case", owner=outsider)
    other_run = add_run(other, outsider, result_doc())
    audit.record("export", "Case", other.pk, {"case": other.pk, "sha256": "f" * 64}, user=outsider)
    return {
        "owner": owner,
        "viewer": viewer,
        "outsider": outsider,
        "admin": admin,
        "case": case,
        "run": run,
        "other": other,
        "other_run": other_run,
    }


def client_for(user: CustomUser | None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def text_of(response: Any) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_anonymous_is_sent_to_sign_in(world: dict[str, Any]) -> None:
    case, run = world["case"], world["run"]
    for url in ["/", f"/cases/{case.pk}/", f"/cases/{case.pk}/runs/{run.pk}/"]:
        r = client_for(None).get(url)
        assert r.status_code == 302, url
        assert r["Location"].startswith("/accounts/login/?next="), url


def test_sign_in_page_then_home_lists_only_visible_cases(world: dict[str, Any]) -> None:
    c = Client()
    assert c.get("/accounts/login/").status_code == 200
    r = c.post("/accounts/login/", {"username": "viewer", "password": "pw-viewer-1", "next": "/"})
    assert r.status_code == 302 and r["Location"] == "/"
    page = text_of(c.get("/"))
    assert "Hot wallet drain" in page
    assert "Someone else's case" not in page
    assert "Someone else's case" in text_of(client_for(world["admin"]).get("/"))


def test_a_user_without_rights_gets_404(world: dict[str, Any]) -> None:
    case, run = world["case"], world["run"]
    c = client_for(world["outsider"])
    assert c.get(f"/cases/{case.pk}/").status_code == 404
    assert c.get(f"/cases/{case.pk}/runs/{run.pk}/").status_code == 404
    # The same answer as for a case that does not exist at all, so ids leak nothing.
    assert c.get("/cases/999999/").status_code == 404
    # A visible case does not open another case's run.
    owner = client_for(world["owner"])
    assert owner.get(f"/cases/{case.pk}/runs/{world['other_run'].pk}/").status_code == 404
    assert owner.get(f"/cases/{case.pk}/?run={world['other_run'].pk}").status_code == 404
    # The API agrees.
    assert c.get(f"/api/v1/cases/{case.pk}/").status_code == 404


def test_viewer_sees_the_case_with_exact_amounts(world: dict[str, Any]) -> None:
    case, run = world["case"], world["run"]
    r = client_for(world["viewer"]).get(f"/cases/{case.pk}/")
    assert r.status_code == 200
    page = text_of(r)
    assert "Hot wallet drain" in page
    assert "your role: viewer" in page
    assert "131.7268838" in page  # 13172688380 sat
    assert U256_MAX_ETH in page  # a uint256 amount, not a float approximation
    assert str(U256_MAX) in page
    # Where the funds went: 600 of 1000 sat = 0.000006 BTC = 60.00 %; 390 held = 39.00 %.
    assert "Alpha Exchange exchange 0.000006 60.00 %" in page
    assert "still held 0.0000039 39.00 %" in page
    assert f"/api/v1/cases/{case.pk}/runs/{run.pk}/" in r.content.decode()
    assert "/assets/plotly.min.js" in r.content.decode()
    # The case's own audit entries, not another case's.
    assert "case.create Case" in page and "owner" in page
    assert "f" * 64 not in page


def test_admin_sees_every_case(world: dict[str, Any]) -> None:
    r = client_for(world["admin"]).get(f"/cases/{world['other'].pk}/")
    assert r.status_code == 200


def test_run_page_tables_and_sankey(world: dict[str, Any]) -> None:
    case, run = world["case"], world["run"]
    r = client_for(world["viewer"]).get(f"/cases/{case.pk}/runs/{run.pk}/")
    assert r.status_code == 200
    page = text_of(r)
    assert "a warning the page must show" in page
    assert "3Exch Alpha Exchange exchange labeled 0.000006 60.00" in page
    assert f"1 {'bb' * 32}:1 1Thief 1Keep 0.0000039" in page
    html = r.content.decode()
    fig = json.loads(re.search(r'id="sankey-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    link = fig["data"][0]["link"]
    labels = fig["data"][0]["node"]["label"]
    into = {}
    for t, exact in zip(link["target"], link["customdata"], strict=True):
        into.setdefault(labels[t], []).append(exact)
    assert into["Alpha Exchange"] == ["0.000006 BTC"]
    assert into[HELD] == ["0.0000039 BTC"]
    assert into[FEE] == ["0.0000001 BTC"]


def test_plotly_js_is_served_locally(client: Client) -> None:
    r = client.get("/assets/plotly.min.js")
    assert r.status_code == 200
    body = b"".join(r.streaming_content) if r.streaming else r.content
    assert len(body) > 1_000_000 and b"plotly" in body[:2000].lower()


def test_sankey_hand_made_figures() -> None:
    doc = result_doc()
    s = build_sankey(doc["flows"], doc["endpoints"])
    assert s.into_terminals() == {"Alpha Exchange": 600, HELD: 390, FEE: 10}
    by_label = {n.key: i for i, n in enumerate(s.nodes)}
    links = {(s.nodes[x.source].key, s.nodes[x.target].key): x.amount for x in s.links}
    assert links[("a:1Victim", "a:1Thief")] == 1000
    assert links[("a:1Thief", "a:3Exch")] == 600
    assert links[("a:3Exch", "t:entity:Alpha Exchange")] == 600
    assert "a:1Keep" in by_label
    grouped = build_sankey(doc["flows"], doc["endpoints"], max_address_nodes=2)
    assert grouped.collapsed
    assert grouped.into_terminals() == s.into_terminals()


def test_eth_gas_flows_become_the_fee_node() -> None:
    flows = [
        {"tx": "0x1", "from": "0xa", "to": "0xb", "amount": "90", "hop": 0},
        {"tx": "0x1", "from": "0xa", "to": None, "amount": "10", "hop": 0},
    ]
    endpoints = [
        {"address": "0xb", "kind": "holding", "amount": "90"},
        {"address": None, "kind": "fee", "amount": "10"},
    ]
    s = build_sankey(flows, endpoints)
    assert s.into_terminals() == {HELD: 90, FEE: 10}
    assert not any(n.key == "fee-origin" for n in s.nodes)


addresses = st.sampled_from(["a", "b", "c", "d", "e", "f"])
amounts = st.integers(min_value=1, max_value=U256_MAX)


@given(
    flows=st.lists(st.tuples(addresses, addresses, amounts, st.integers(0, 5)), max_size=12),
    held=st.lists(st.tuples(addresses, amounts), max_size=4),
    labeled=st.lists(st.tuples(addresses, st.sampled_from(["X", "Y"]), amounts), max_size=4),
    fee=st.integers(min_value=0, max_value=10**30),
    limit=st.integers(min_value=0, max_value=10**30),
    max_nodes=st.sampled_from([None, 2, 60]),
)
def test_sankey_terminals_equal_endpoints(flows, held, labeled, fee, limit, max_nodes) -> None:
    flow_docs = [{"from": a, "to": b, "amount": str(v), "hop": h} for a, b, v, h in flows]
    endpoints = [{"address": a, "kind": "holding", "amount": str(v)} for a, v in held]
    endpoints += [
        {"address": a, "kind": "labeled", "entity": e, "amount": str(v)} for a, e, v in labeled
    ]
    if fee:
        endpoints.append({"address": None, "kind": "fee", "amount": str(fee)})
    if limit:
        endpoints.append({"address": "a", "kind": "limit", "amount": str(limit)})
    s = build_sankey(flow_docs, endpoints, max_address_nodes=max_nodes)
    assert s.into_terminals() == endpoint_totals(endpoints)
    assert all(x.amount > 0 and x.source != x.target for x in s.links)


@given(st.integers(min_value=0, max_value=U256_MAX), st.integers(min_value=1, max_value=U256_MAX))
def test_percent_rounds_half_up_exactly(part: int, whole: int) -> None:
    exact = Fraction(part * 100, whole)
    shown = Fraction(percent(part, whole).replace(".", "")) / 100
    assert abs(shown - exact) <= Fraction(1, 200)
    assert shown - exact < Fraction(1, 200) or shown > exact  # ties go up


def test_demo_case_pages_and_sankey_conserve_value(settings: Any, tmp_path: Any, db: Any) -> None:
    """Every demo run: what reaches the Sankey's right-hand side equals the run's endpoints."""
    from io import StringIO

    from django.core.management import call_command

    settings.DATA_DIR = tmp_path
    call_command("demo", "--no-serve", "--json", stdout=StringIO(), stderr=StringIO())
    case = Case.objects.get()
    runs = list(case.runs.all())
    assert len(runs) == 21
    for run in runs:
        doc = run.result
        where = f"run {run.pk} {run.chain} {run.model}"
        assert run.status == "done", where
        for limit in (None, 60):
            s = build_sankey(doc["flows"], doc["endpoints"], max_address_nodes=limit)
            if run.model in CONSERVING:
                got = s.into_terminals()
                assert got == endpoint_totals(doc["endpoints"]), where
                assert sum(got.values()) == int(doc["source_amount"]), where
    c = client_for(case.owner)
    page = c.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    assert "131.7268838" in text_of(page)  # the BTC theft, 13172688380 sat
    for run in runs[:3]:
        assert c.get(f"/cases/{case.pk}/runs/{run.pk}/").status_code == 200
