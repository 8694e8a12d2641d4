"""Read stored chain data back as plain documents (for the CLI, the API and reports).

Amounts leave as decimal strings of base units: JSON numbers would be floats to most readers.
Balances are exact Python-int sums over what is stored, which is what an investigator can
prove; they say nothing about history that was never imported.
"""

from __future__ import annotations

from typing import Any

from data_collection import models as m
from data_collection.history import address_history, iso_time, stored_transaction
from fundtrace.core.errors import FundtraceError
from fundtrace.core.model import NATIVE, Chain


class NotStored(FundtraceError):
    """The thing asked for is not in the database (it may exist on chain)."""


def canonical_address(chain: Chain, address: str) -> str:
    address = address.strip()
    return address.lower() if chain is Chain.ETH else address


def canonical_hash(chain: Chain, tx_hash: str) -> str:
    tx_hash = tx_hash.strip()
    if chain is Chain.ETH:
        tx_hash = tx_hash.lower()
        return tx_hash if tx_hash.startswith("0x") else "0x" + tx_hash
    return tx_hash.lower() if chain is Chain.BTC else tx_hash


def transaction_document(chain: Chain, tx_hash: str) -> dict[str, Any]:
    tx_hash = canonical_hash(chain, tx_hash)
    doc = stored_transaction(chain.value, tx_hash)
    if doc is None:
        raise NotStored(f"transaction {tx_hash} is not stored for chain {chain}")
    return doc


def address_document(
    chain: Chain,
    address: str,
    *,
    offset: int = 0,
    limit: int | None = 1000,
    must_exist: bool = True,
) -> dict[str, Any]:
    """Movements in and out of ``address`` in chain order, and its balance per asset.

    One document for ``fundtrace show address`` and the API: exact amounts as decimal strings,
    each balance with its asset's decimals, ``count`` movements in all of which
    ``movements`` holds the page ``offset``..``offset + limit``.
    """
    address = canonical_address(chain, address)
    doc = address_history(chain.value, address)
    moves = doc["movements"]
    if (
        must_exist
        and not moves
        and not m.Address.objects.filter(chain=chain.value, address=address).exists()
    ):
        raise NotStored(f"address {address} has no stored movements on chain {chain}")
    assets = [b["asset"] for b in doc["balances"]]
    decimals = dict(
        m.Asset.objects.filter(chain=chain.value, asset_id__in=assets).values_list(
            "asset_id", "decimals"
        )
    )
    decimals.setdefault(NATIVE, chain.native_decimals)
    page = moves[offset:] if limit is None else moves[offset : offset + limit]
    return {
        "chain": chain.value,
        "address": address,
        "balances": [
            {
                "asset": b["asset"],
                "decimals": decimals.get(b["asset"]),
                **{k: str(b[k]) for k in ("received", "sent", "fees", "balance")},
            }
            for b in doc["balances"]
        ],
        "count": len(moves),
        "movements": [
            dict(mv, timestamp=iso_time(mv["timestamp"]), amount=str(mv["amount"])) for mv in page
        ],
        "warnings": doc["warnings"],
    }
