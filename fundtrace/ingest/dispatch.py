"""Which parser reads which (chain, format), and how files become batches.

Each yielded batch is stored atomically by the caller, so "one batch" is the unit of
all-or-nothing: one file for self-contained formats, all files together where records must be
joined across files (Ethereum blocks with their receipts and traces, ETL directories).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fundtrace.core.errors import ParseError
from fundtrace.core.model import Batch, Chain
from fundtrace.ingest.readers import iter_documents, iter_results

FORMATS: dict[Chain, tuple[str, ...]] = {
    Chain.BTC: ("bitcoin-etl", "rpc", "esplora"),
    Chain.ETH: ("ethereum-etl", "rpc", "etherscan"),
    Chain.SOL: ("rpc",),
}


def parse_inputs(
    chain: Chain, fmt: str, paths: Sequence[str | Path], *, network: str = "mainnet"
) -> Iterator[tuple[str, Batch]]:
    """(source label, batch) for each unit of import; raises ParseError naming the place."""
    if fmt not in FORMATS[chain]:
        raise ParseError(
            f"format {fmt!r} is not available for {chain} (use one of {', '.join(FORMATS[chain])})"
        )
    for p in paths:
        if not Path(p).exists():
            raise ParseError("no such file or directory", source=str(p))
    if chain is Chain.BTC:
        yield from _btc(fmt, paths, network)
    elif chain is Chain.ETH:
        yield from _eth(fmt, paths)
    else:
        yield from _sol(paths)


def _expand(paths: Sequence[str | Path]) -> list[Path]:
    """Directories stand for the JSON / JSON-lines files inside them, in name order."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(
                f for f in p.rglob("*") if f.is_file() and f.suffix in {".json", ".jsonl"}
            )
        else:
            out.append(p)
    return out


def _btc(fmt: str, paths: Sequence[str | Path], network_name: str) -> Iterator[tuple[str, Batch]]:
    from fundtrace.chains.btc import esplora, etl, shapes
    from fundtrace.chains.btc.network import network_by_name

    network = network_by_name(network_name)
    for path in _expand(paths):
        source = str(path)
        if fmt == "bitcoin-etl":
            records: list[Any] = []
            for _, doc in iter_documents(path):
                records.extend(doc if isinstance(doc, list) else [doc])
            yield source, etl.parse_etl_records(records, network=network, source=source)
            continue
        batch = Batch(Chain.BTC)
        for record, result in iter_results(path):
            items = result if isinstance(result, list) else [result]
            if fmt == "esplora":
                if isinstance(result, list):
                    batch.extend(
                        esplora.parse_esplora_txs(
                            result, network=network, source=source, record=record
                        )
                    )
                elif isinstance(result, dict) and "chain_stats" in result and "txid" not in result:
                    batch.skip("esplora_address_summary")  # /address/:a totals, no transactions
                else:
                    batch.extend(
                        esplora.esplora_tx_batch(
                            result, network=network, source=source, record=record
                        )
                    )
                continue
            for i, item in enumerate(items):
                where = record if len(items) == 1 else f"{record}[{i}]"
                kind = shapes.classify(item)
                if kind is None:
                    if isinstance(item, str):  # getblockhash answers: nothing to store
                        batch.skip("btc_block_hash")
                        continue
                    raise ParseError(
                        "not a Bitcoin Core getblock (verbosity 2/3), getrawtransaction or "
                        "bitcoin-etl record",
                        source=source,
                        record=where,
                    )
                batch.extend(
                    shapes.parse_record(kind, item, network=network, source=source, record=where)
                )
        yield source, batch


def _eth(fmt: str, paths: Sequence[str | Path]) -> Iterator[tuple[str, Batch]]:
    from fundtrace.chains.eth import etherscan, etl, rpc

    label = ", ".join(map(str, paths))
    if fmt == "ethereum-etl":
        dirs = [Path(p) for p in paths if Path(p).is_dir()]
        files = [Path(p) for p in paths if not Path(p).is_dir()]
        for d in dirs:
            yield str(d), etl.parse_etl_dir(d)
        if files:
            yield ", ".join(map(str, files)), etl.parse_etl_files(files)
    elif fmt == "rpc":
        yield label, rpc.parse_rpc_files(_expand(paths))
    else:
        yield label, etherscan.parse_etherscan_files(_expand(paths))


def _sol(paths: Sequence[str | Path]) -> Iterator[tuple[str, Batch]]:
    from fundtrace.chains.sol import rpc

    for path in _expand(paths):
        source = str(path)
        batch = Batch(Chain.SOL)
        for record, result in iter_results(path):
            kind = rpc.classify(result)
            if kind == rpc.TRANSACTION:
                batch.extend(rpc.parse_transaction(result, source=source, record=record))
            elif kind == rpc.BLOCK:
                batch.extend(rpc.parse_block(result, source=source))
            elif kind == rpc.SIGNATURES:
                batch.skip("sol_signature_page")
                batch.warnings.append(
                    f"{source}, record {record}: a getSignaturesForAddress page lists "
                    "signatures only; fetch the transactions to import them"
                )
            else:
                raise ParseError(
                    "not a Solana getTransaction, getBlock or getSignaturesForAddress result",
                    source=source,
                    record=record,
                )
        yield source, batch
