"""Every file under fixtures/eth/ parses (or is refused for the documented reason)."""

import pytest

from fundtrace.chains.eth import etherscan, etl, rpc
from fundtrace.chains.eth.rpc_records import parse_tx
from fundtrace.core.errors import ParseError
from tests.paths import FIXTURES, needs_shared

pytestmark = needs_shared

ETH = FIXTURES / "eth"
FILES = sorted(p for p in ETH.rglob("*") if p.is_file() and p.name != "PROVENANCE.md")


def test_fixture_set_is_the_one_provenance_lists():
    text = (ETH / "PROVENANCE.md").read_text()
    listed = {
        line.split()[1]
        for line in text.splitlines()
        if len(line.split()) == 2
        and len(line.split()[0]) == 64
        and line.split()[1].startswith("eth/")
    }
    assert listed == {"eth/" + str(p.relative_to(ETH)) for p in FILES}


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ETH)))
def test_file_parses(path):
    area = path.relative_to(ETH).parts[0]
    if area == "etherscan":
        batch = etherscan.parse_etherscan_files([path])
        for t in batch.transactions:
            t.validate()
        return
    if area == "etl":
        kind = etl.file_kind(path)
        assert kind is not None
        batch = etl.parse_etl_files([path])
        for t in batch.transactions:
            t.validate()
        return
    records = rpc.load_json_records(path)
    assert records
    name = path.name
    if name.endswith("_hashes.json"):
        with pytest.raises(ParseError, match="full transactions"):
            rpc.assemble_records(records)
        return
    if name.startswith("eth_getBlockByNumber_") and name not in (
        "eth_getBlockByNumber_0_full.json",
        "eth_getBlockByNumber_1755634_full.json",
    ):
        with pytest.raises(ParseError, match="receipts are missing"):
            rpc.assemble_records(records)
        return
    if name.startswith("eth_getTransactionByHash_"):
        ((kind, obj),) = records
        assert kind == rpc.TX
        assert parse_tx(obj).hash == obj["hash"]
        with pytest.raises(ParseError, match="without its receipt"):
            rpc.assemble_records(records)
        return
    if name.startswith("debug_traceBlockByNumber_callTracer_1") and name != (
        "debug_traceBlockByNumber_callTracer_1.json"
    ):
        # 2018 geth: entries carry no txHash and the file has no request naming the block
        with pytest.raises(ParseError, match="block number"):
            rpc.assemble_records(records)
        return
    batch = rpc.assemble_records(records)
    for t in batch.transactions:
        t.validate()
