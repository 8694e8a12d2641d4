"""Run the tracing engine over stored data: load compact arrays once, trace, return the JSON.

The engine (``fundtrace.tracing``) never touches the database; this module reads the rows a
trace needs with a few column queries straight into numpy arrays (no per-hop ORM queries)
and passes them in. Every result carries its parameters and the data snapshot (highest stored
block of the chain) so that the run can be repeated and compared.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from django.db.models import F, Max

from data_collection import models as m
from data_collection.queries import canonical_address, canonical_hash
from data_processing.attribution_store import trace_attribution
from fundtrace.core.errors import FundtraceError
from fundtrace.core.model import NATIVE, Chain, TransferKind
from fundtrace.tracing import (
    ACCOUNT_MODELS,
    UTXO_MODELS,
    AccountLedger,
    AddressSource,
    UtxoGraph,
    account_ledger_from_arrays,
    trace,
    utxo_graph_from_arrays,
)
from fundtrace.tracing.account_ledger import KIND_FEE, KIND_INTERNAL, KIND_NATIVE, KIND_TOKEN

KIND_CODE = {
    TransferKind.NATIVE.value: KIND_NATIVE,
    TransferKind.INTERNAL.value: KIND_INTERNAL,
    TransferKind.TOKEN.value: KIND_TOKEN,
}


class TraceInputError(FundtraceError):
    """The trace request names something that is not stored or does not fit together."""


class _Ids:
    """Dense integer ids for address strings (None -> -1)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.names: list[str] = []

    def __call__(self, name: str | None) -> int:
        if name is None:
            return -1
        i = self.ids.get(name)
        if i is None:
            i = self.ids[name] = len(self.names)
            self.names.append(name)
        return i


def load_utxo_graph(chain: Chain = Chain.BTC) -> UtxoGraph:
    """Every stored transaction of a UTXO chain as CSR arrays, in chain order."""
    txs = list(
        m.BlockchainTransaction.objects.filter(blockchain_network=chain.value)
        .order_by(F("block_number").asc(nulls_last=True), F("tx_index").asc(nulls_last=True), "id")
        .values_list("id", "transaction_hash", "is_coinbase")
    )
    row_of_tx = {tid: r for r, (tid, _, _) in enumerate(txs)}
    addr = _Ids()
    outs = list(
        m.TxOutput.objects.filter(chain=chain.value).values_list(
            "transaction_id", "index", "id", "value", "address"
        )
    )
    outs.sort(key=lambda o: (row_of_tx[o[0]], o[1]))
    out_row = {o[2]: r for r, o in enumerate(outs)}
    ins = list(
        m.TxInput.objects.filter(chain=chain.value).values_list(
            "transaction_id", "index", "spent_output_id", "value", "address"
        )
    )
    ins.sort(key=lambda i: (row_of_tx[i[0]], i[1]))
    n_tx = len(txs)
    tx_out_ptr = np.zeros(n_tx + 1, dtype=np.int64)
    np.add.at(tx_out_ptr, np.fromiter((row_of_tx[o[0]] + 1 for o in outs), np.int64, len(outs)), 1)
    tx_in_ptr = np.zeros(n_tx + 1, dtype=np.int64)
    np.add.at(tx_in_ptr, np.fromiter((row_of_tx[i[0]] + 1 for i in ins), np.int64, len(ins)), 1)
    return utxo_graph_from_arrays(
        txids=[t[1] for t in txs],
        addresses=addr.names,
        tx_in_ptr=np.cumsum(tx_in_ptr),
        tx_out_ptr=np.cumsum(tx_out_ptr),
        in_spent=np.fromiter(
            (out_row.get(i[2], -1) if i[2] is not None else -1 for i in ins), np.int64, len(ins)
        ),
        in_value=[i[3] or 0 for i in ins],
        in_addr=np.fromiter((addr(i[4]) for i in ins), np.int64, len(ins)),
        out_value=[o[3] for o in outs],
        out_addr=np.fromiter((addr(o[4]) for o in outs), np.int64, len(outs)),
        out_vout=np.fromiter((o[1] for o in outs), np.int64, len(outs)),
        tx_coinbase=np.fromiter((t[2] for t in txs), np.bool_, n_tx),
    )


def load_account_ledger(chain: Chain, asset: str) -> AccountLedger:
    """Every stored movement of ``asset`` on an account chain (gas fees for the native coin)."""
    rows = list(
        m.Transfer.objects.filter(chain=chain.value, asset=asset).values_list(
            "transaction_id", "block_number", "tx_index", "index", "kind", "from_address",
            "to_address", "amount",
        )
    )  # fmt: skip
    if asset == NATIVE:
        rows += [
            (tid, bn, pos, -1, "fee", payer, None, fee)
            for tid, bn, pos, payer, fee in m.BlockchainTransaction.objects.filter(
                blockchain_network=chain.value, fee__gt=0
            ).values_list("id", "block_number", "tx_index", "from_address", "fee")
        ]
    tx_ids = sorted({r[0] for r in rows})
    hashes = dict(
        m.BlockchainTransaction.objects.filter(id__in=tx_ids).values_list("id", "transaction_hash")
    ) if len(tx_ids) < 50_000 else dict(
        m.BlockchainTransaction.objects.filter(blockchain_network=chain.value).values_list(
            "id", "transaction_hash"
        )
    )  # fmt: skip
    tx_row = {tid: i for i, tid in enumerate(tx_ids)}
    addr = _Ids()
    n = len(rows)
    big = 2**62
    decimals = (
        chain.native_decimals
        if asset == NATIVE
        else m.Asset.objects.filter(chain=chain.value, asset_id=asset)
        .values_list("decimals", flat=True)
        .first()
    )
    return account_ledger_from_arrays(
        chain=chain,
        asset=asset,
        tx_hashes=[hashes[t] for t in tx_ids],
        addresses=addr.names,
        tx_id=np.fromiter((tx_row[r[0]] for r in rows), np.int64, n),
        block=np.fromiter((big if r[1] is None else r[1] for r in rows), np.int64, n),
        tx_pos=np.fromiter((r[2] or 0 for r in rows), np.int64, n),
        index=np.fromiter((r[3] for r in rows), np.int64, n),
        kind=np.fromiter(
            (KIND_FEE if r[4] == "fee" else KIND_CODE[r[4]] for r in rows), np.int8, n
        ),
        from_id=np.fromiter((addr(r[5]) for r in rows), np.int64, n),
        to_id=np.fromiter((addr(r[6]) for r in rows), np.int64, n),
        amount=[r[7] for r in rows],
        decimals=decimals,
    )


def _split_source(chain: Chain, source: str) -> tuple[str, int | None]:
    text = source.strip()
    head, sep, tail = text.rpartition(":")
    if sep and tail.isdigit():
        return canonical_hash(chain, head), int(tail)
    return canonical_hash(chain, text), None


def normalize_sources(chain: Chain, sources: Sequence[str]) -> list[str]:
    out = []
    for s in sources:
        tx, idx = _split_source(chain, s)
        out.append(tx if idx is None else f"{tx}:{idx}")
    return out


def source_asset(chain: Chain, sources: Sequence[str], asset: str | None) -> str:
    """The asset a trace follows: given, or the one asset all sources move."""
    if chain.is_utxo:
        if asset not in (None, NATIVE, "btc"):
            raise TraceInputError(f"{chain} has only its native asset, not {asset!r}")
        return NATIVE
    if asset is not None:
        return asset.lower() if chain is Chain.ETH and asset != NATIVE else asset
    assets: set[str] = set()
    for s in sources:
        tx, idx = _split_source(chain, s)
        qs = m.Transfer.objects.filter(chain=chain.value, tx_hash=tx)
        if idx is not None:
            qs = qs.filter(index=idx)
        found = set(qs.values_list("asset", flat=True))
        if not found:
            raise TraceInputError(f"source {s!r}: no stored {chain} transfer matches it")
        assets |= found
    if len(assets) > 1:
        raise TraceInputError(
            f"the sources move several assets ({', '.join(sorted(assets))}); "
            "choose one with --asset"
        )
    return assets.pop()


def data_snapshot(chain: Chain) -> dict[str, Any]:
    agg = m.Block.objects.filter(chain=chain.value).aggregate(Max("number"))
    return {
        "chain": chain.value,
        "max_block": agg["number__max"],
        "transactions": m.BlockchainTransaction.objects.filter(
            blockchain_network=chain.value
        ).count(),
    }


def run_trace(
    *,
    chain: str | Chain,
    sources: Iterable[str],
    model: str,
    direction: str = "forward",
    max_hops: int | None = None,
    min_amount: int | str = 0,
    asset: str | None = None,
    through: Iterable[str] = (),
    case_ids: Iterable[int] | None = None,
    address_sources: Iterable[str] = (),
    return_result: bool = False,
) -> Any:
    """Trace over the stored data and return the result document (see the tracing issue).

    ``address_sources`` (backward only) trace where an address's current holdings came from.
    With ``return_result`` the engine's ``TraceResult`` is returned too (for ``--explain``).
    """
    chain = Chain(chain)
    sources = normalize_sources(chain, list(sources))
    addr_sources = [canonical_address(chain, a) for a in address_sources]
    if not sources and not addr_sources:
        raise TraceInputError("at least one source is needed")
    allowed = UTXO_MODELS if chain.is_utxo else ACCOUNT_MODELS
    if model not in allowed:
        raise TraceInputError(
            f"model {model!r} is not defined for {chain} (use one of {', '.join(allowed)})"
        )
    try:
        min_amount = int(min_amount)
    except ValueError:
        raise TraceInputError(
            f"--min-amount must be an integer of base units, got {min_amount!r}"
        ) from None
    started = time.perf_counter()
    the_asset = source_asset(chain, sources, asset)
    data = load_utxo_graph(chain) if chain.is_utxo else load_account_ledger(chain, the_asset)
    loaded = time.perf_counter()
    attribution = trace_attribution(chain, case_ids=case_ids)
    try:
        result = trace(
            data,
            [*sources, *(AddressSource(a) for a in addr_sources)],
            model=model,
            direction=direction,
            max_hops=max_hops,
            min_amount=min_amount,
            attribution=attribution,
            through=frozenset(through),
        )
    except ValueError as exc:
        raise TraceInputError(str(exc)) from exc
    doc = result.to_dict()
    doc["parameters"] = {**doc.get("parameters", {}), "asset": the_asset, "sources": sources}
    doc["snapshot"] = data_snapshot(chain)
    doc["timing_ms"] = {
        "load": round((loaded - started) * 1000, 1),
        "trace": round((time.perf_counter() - loaded) * 1000, 1),
    }
    return (doc, result) if return_result else doc
