"""Solana: token accounts belong to owner wallets; fee payers usually sign for themselves.

* ``sol_token_owner`` (95): an SPL token account is owned by one wallet, recorded on the ledger
  (``owner`` in the transaction's token balances), so funds in the token account are the
  owner's. This is ledger fact, not a guess; only the 95 admits program-owned accounts (pool
  vaults) whose "owner" is a program authority rather than a person.
* ``sol_fee_payer`` (30, weak): the fee payer of a transaction whose top-level transfer debits
  another wallet usually controls both. Relayers and dApps pay fees for strangers, so this stays
  below the default merge threshold. Only top-level transfers count (the debited account had
  to sign); inner (CPI) transfers move program-controlled funds such as pool vaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fundtrace.attribution.links import Link
from fundtrace.core.model import Transaction

__all__ = [
    "FEE_PAYER_CONFIDENCE",
    "TOKEN_OWNER_CONFIDENCE",
    "fee_payer_links",
    "token_account_owners_from_rpc",
    "token_owner_links",
]

TOKEN_OWNER_CONFIDENCE = 95
FEE_PAYER_CONFIDENCE = 30


def token_account_owners_from_rpc(result: Mapping[str, Any]) -> dict[str, str]:
    """{token account: owner} from a ``getTransaction`` result (json/jsonParsed, v0/legacy)."""
    if "result" in result and "meta" not in result:
        result = result["result"]
    tx = result.get("transaction") or {}
    meta = result.get("meta") or {}
    keys: list[str] = []
    for k in (tx.get("message") or {}).get("accountKeys") or []:
        keys.append(k["pubkey"] if isinstance(k, dict) else k)
    loaded = meta.get("loadedAddresses") or {}
    keys += list(loaded.get("writable") or []) + list(loaded.get("readonly") or [])
    owners: dict[str, str] = {}
    for bal in (meta.get("preTokenBalances") or []) + (meta.get("postTokenBalances") or []):
        owner = bal.get("owner")
        idx = bal.get("accountIndex")
        if owner and isinstance(idx, int) and 0 <= idx < len(keys):
            owners[keys[idx]] = owner
    return owners


def token_owner_links(tx: Transaction, owners: Mapping[str, str]) -> list[Link]:
    out: dict[str, Link] = {}
    for t in tx.transfers:
        for acct in (t.from_address, t.to_address):
            owner = owners.get(acct) if acct else None
            if acct and owner and owner != acct and acct not in out:
                out[acct] = Link(acct, owner, "sol_token_owner", TOKEN_OWNER_CONFIDENCE, (tx.hash,))
    return list(out.values())


def fee_payer_links(tx: Transaction, owners: Mapping[str, str] | None = None) -> list[Link]:
    payer = tx.fee_payer
    if not payer or not tx.success:
        return []
    owners = owners or {}
    out: dict[str, Link] = {}
    for t in tx.transfers:
        if t.from_address is None or t.trace_address is None or "." in t.trace_address:
            continue
        src = owners.get(t.from_address, t.from_address)
        if src != payer and src not in out:
            out[src] = Link(payer, src, "sol_fee_payer", FEE_PAYER_CONFIDENCE, (tx.hash,))
    return list(out.values())
