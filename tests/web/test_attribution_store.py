"""Label store, clustering and entity commands over the database (the shared real label data)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from data_processing.attribution_store import trace_attribution
from data_processing.models import AddressLabel, ClusteringState
from fundtrace.core.model import Chain
from tests.paths import FIXTURES, LABELS, needs_shared

pytestmark = [pytest.mark.django_db, needs_shared]

OFAC_XML = LABELS / "ofac" / "sdn_advanced_digital_currency_slice.xml"
TORNADO = LABELS / "eth/brianleect-etherscan-labels/data/etherscan/accounts/tornado-cash.csv"


def cmd(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_ofac_xml_with_a_tron_address_filed_under_xbt_is_rejected_whole() -> None:
    with pytest.raises(CommandError, match="rejected, nothing stored"):
        cmd("labels", "import", "--format", "ofac", str(OFAC_XML))
    assert AddressLabel.objects.count() == 0


def test_skip_invalid_imports_the_rest_and_reimport_is_idempotent() -> None:
    cmd("labels", "import", "--format", "ofac", "--skip-invalid", str(OFAC_XML))
    n = AddressLabel.objects.count()
    assert n > 0
    assert set(AddressLabel.objects.values_list("category", flat=True)) <= {"sanctioned", "other"}
    assert not AddressLabel.objects.filter(address__startswith="T").exists()
    cmd("labels", "import", "--format", "ofac", "--skip-invalid", str(OFAC_XML))
    assert AddressLabel.objects.count() == n


def test_csv_labels_show_in_json_and_eip55_input_matches(tmp_path: Path) -> None:
    f = tmp_path / "labels.csv"
    addr = "0x52908400098527886E0F7030069857D2E4169EE7"  # EIP-55 test vector
    f.write_text(
        f"chain,address,entity,category,source,confidence\n"
        f"eth,{addr},Binance,exchange,analyst,90\n"
        f"eth,{addr.lower()},Binance,exchange,analyst,90\n"
    )
    cmd("labels", "import", "--format", "csv", str(f))
    assert AddressLabel.objects.count() == 1
    shown = json.loads(cmd("labels", "show", "--chain", "eth", "--format", "json", addr.lower()))
    assert shown == [
        {"entity": "Binance", "category": "exchange", "source": "analyst", "confidence": 90}
    ]
    attr = trace_attribution(Chain.ETH)
    assert attr(addr.lower()) == ("Binance", "exchange")


def test_bad_category_rejects_the_csv_with_line_and_field(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(
        "chain,address,entity,category\n"
        "eth,0x52908400098527886e0f7030069857d2e4169ee7,X,exchange\n"
        "eth,0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae,Y,casino\n"
    )
    with pytest.raises(CommandError, match="rejected"):
        cmd("labels", "import", "--format", "csv", str(f))
    assert AddressLabel.objects.count() == 0


def test_cluster_is_incremental_and_entity_shows_inherited_labels(tmp_path: Path) -> None:
    block = FIXTURES / "btc" / "rpc" / "ordhook" / "279671.json"
    args = ["--chain", "btc", "--format", "rpc", "--no-progress", str(block)]
    call_command("import_chain_data", *args, stdout=StringIO(), stderr=StringIO())
    first = cmd("cluster", "--chain", "btc")
    assert "read 217 new transactions" in first
    assert "read 0 new transactions" in cmd("cluster", "--chain", "btc")
    assert ClusteringState.objects.get(chain="btc").links > 0
    # tx 663949f0... spends 402 inputs: common-input ownership puts its input addresses together.
    big = "663949f05d42cc4a53aa85642da9669592ccfc2232fb72de341355a6c03dcbaf"
    doc = json.loads(cmd("show", "tx", "--chain", "btc", "--format", "json", big))
    senders = sorted({i["address"] for i in doc["inputs"]})
    assert len(senders) > 1
    labels = tmp_path / "l.csv"
    labels.write_text(f"chain,address,entity,category\nbtc,{senders[0]},Acme Exchange,exchange\n")
    cmd("labels", "import", "--format", "csv", str(labels))
    view = json.loads(cmd("entity", "--chain", "btc", "--format", "json", senders[-1]))
    assert view["size"] >= len(senders)
    assert set(senders) <= set(view["addresses"]) or view["size"] > len(view["addresses"])
    inherited = [lbl for lbl in view["labels"] if lbl["inherited"]]
    assert inherited and inherited[0]["entity"] == "Acme Exchange"
    assert any(link["heuristic"] == "btc_multi_input" for link in view["links"])
    assert trace_attribution(Chain.BTC)(senders[-1])[0] == "Acme Exchange"
