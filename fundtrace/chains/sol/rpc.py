"""Solana JSON-RPC results (getTransaction, getBlock, getSignaturesForAddress) to canonical records.

Entry points take the ``result`` of a response, or the whole ``{"jsonrpc", "id", "result"}``
envelope; an envelope carrying ``error`` is refused with the node's message. A getBlock result
does not repeat its own slot, so the caller passes the slot it asked for; without it the
transactions are still parsed (with the block hash) but no Block record is made, since a wrong
block number would be worse than none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fundtrace.chains.sol.balances import check_balances, require_lamport_sum
from fundtrace.chains.sol.message import TxView, read_transaction
from fundtrace.chains.sol.transfers import decode_transfers
from fundtrace.core.errors import ParseError
from fundtrace.core.model import NATIVE, Asset, Batch, Block, Chain, Transaction

TRANSACTION = "sol.transaction"
BLOCK = "sol.block"
SIGNATURES = "sol.signatures"


def unwrap(obj: object, *, source: str | None = None, record: int | str | None = None) -> object:
    """The ``result`` of a JSON-RPC envelope (an ``error`` envelope raises), else ``obj``."""
    if isinstance(obj, Mapping) and ("jsonrpc" in obj or ("id" in obj and "result" in obj)):
        if obj.get("error") is not None:
            err = obj["error"]
            msg = err.get("message") if isinstance(err, Mapping) else err
            code = err.get("code") if isinstance(err, Mapping) else None
            raise ParseError(
                f"RPC error {code}: {msg}", source=source, record=record, field="error"
            )
        if "result" not in obj:
            raise ParseError(
                "envelope without result", source=source, record=record, field="result"
            )
        return obj["result"]
    return obj


def classify(obj: object) -> str | None:
    """Which Solana RPC result ``obj`` is (envelopes are looked through), or None if none.

    Keys are chosen so Bitcoin/Ethereum results never match: a Solana transaction has
    ``transaction`` + ``meta``, a block ``blockhash`` + ``parentSlot``, a signatures page is an
    array of objects with ``signature`` and ``slot``.
    """
    if isinstance(obj, Mapping) and "jsonrpc" in obj and "result" in obj:
        obj = obj["result"]
    if isinstance(obj, Mapping):
        if "transaction" in obj and "meta" in obj:
            return TRANSACTION
        if "blockhash" in obj and "parentSlot" in obj:
            return BLOCK
        return None
    if (
        isinstance(obj, list)
        and obj
        and all(isinstance(e, Mapping) and "signature" in e and "slot" in e for e in obj)
    ):
        return SIGNATURES
    return None


def parse_transaction(
    result: object,
    *,
    source: str | None = None,
    slot: int | None = None,
    block_time: int | None = None,
    tx_index: int | None = None,
    block_hash: str | None = None,
    record: int | str | None = None,
) -> Batch:
    """One getTransaction result (jsonParsed, json, base64 or base58) -> Batch of one Transaction.

    Keyword values fill what the result lacks (getBlock entries carry no slot/time/index);
    values in the result win for ``slot``, ``block_time`` and ``tx_index`` when present.
    """
    result = unwrap(result, source=source, record=record)
    if result is None:
        raise ParseError("transaction not found (result is null)", source=source, record=record)
    if not isinstance(result, Mapping):
        raise ParseError("expected a getTransaction result object", source=source, record=record)
    batch = Batch(Chain.SOL)
    view = read_transaction(result, source=source, record=record)
    _add_transaction(
        batch,
        view,
        slot=view.slot if view.slot is not None else slot,
        block_time=view.block_time if view.block_time is not None else block_time,
        tx_index=view.tx_index if view.tx_index is not None else tx_index,
        block_hash=block_hash,
    )
    return batch


def parse_block(result: object, *, slot: int | None = None, source: str | None = None) -> Batch:
    """A getBlock result with full transactions (any encoding) -> Block + Transactions + Assets.

    A ``signatures``-only block (transactionDetails "signatures") yields the Block and a warning:
    its transactions must be fetched one by one with getTransaction.
    """
    result = unwrap(result, source=source)
    if not isinstance(result, Mapping):
        raise ParseError("expected a getBlock result object", source=source, record=slot)
    rec = f"slot {slot}" if slot is not None else None
    blockhash = result.get("blockhash")
    if not isinstance(blockhash, str) or not blockhash:
        raise ParseError("missing or not a hash", source=source, record=rec, field="blockhash")
    block_time = result.get("blockTime")
    if block_time is not None and (isinstance(block_time, bool) or not isinstance(block_time, int)):
        raise ParseError("not a unix time", source=source, record=rec, field="blockTime")
    parent = result.get("previousBlockhash")
    txs = result.get("transactions")
    sigs = result.get("signatures")
    for name, value in (("transactions", txs), ("signatures", sigs)):
        if value is not None and not isinstance(value, list):
            raise ParseError("expected an array", source=source, record=rec, field=name)

    batch = Batch(Chain.SOL)
    tx_count = len(txs) if txs is not None else len(sigs) if sigs is not None else None
    label = f"slot {slot}" if slot is not None else f"block {blockhash}"
    if slot is not None:
        batch.blocks.append(
            Block(
                Chain.SOL,
                slot,
                blockhash,
                block_time,
                parent_hash=parent if isinstance(parent, str) else None,
                tx_count=tx_count,
                miner=_leader(result.get("rewards")),
            )
        )
    else:
        batch.warnings.append(
            f"sol {label}: getBlock results do not carry their slot and none was given; "
            "no Block record made, transactions keep the block hash only"
        )
    if txs is None:
        what = f"{len(sigs)} signatures only" if sigs is not None else "no transaction details"
        batch.warnings.append(
            f"sol {label}: {what}; fetch the transactions with getTransaction to import them"
        )
        return batch
    for i, entry in enumerate(txs):
        record = f"transactions[{i}]"
        if not isinstance(entry, Mapping):
            raise ParseError("expected an object", source=source, record=record)
        view = read_transaction(entry, source=source, record=record)
        _add_transaction(
            batch, view, slot=slot, block_time=block_time, tx_index=i, block_hash=blockhash
        )
    return batch


def _leader(rewards: object) -> str | None:
    """The validator that produced the block receives its ``Fee`` reward."""
    if isinstance(rewards, list):
        for r in rewards:
            if isinstance(r, Mapping) and r.get("rewardType") == "Fee":
                pk = r.get("pubkey")
                return pk if isinstance(pk, str) else None
    return None


def _add_transaction(
    batch: Batch,
    view: TxView,
    *,
    slot: int | None,
    block_time: int | None,
    tx_index: int | None,
    block_hash: str | None,
) -> Transaction:
    require_lamport_sum(view)
    dec = decode_transfers(view)
    tx = Transaction(
        chain=Chain.SOL,
        hash=view.signature,
        block_number=slot,
        block_hash=block_hash,
        tx_index=tx_index,
        timestamp=block_time,
        fee=view.fee,
        success=view.success,
        fee_payer=view.fee_payer,
        transfers=dec.transfers,
    )
    batch.transactions.append(tx)
    batch.warnings.extend(dec.warnings)
    for reason, n in dec.skipped.items():
        batch.skip(reason, n)
    report = check_balances(view, dec)
    batch.warnings.extend(report.warnings())
    _add_assets(batch, dec.decimals)
    return tx


def _add_assets(batch: Batch, decimals: dict[str, int]) -> None:
    known = {a.asset_id: a for a in batch.assets}
    if NATIVE not in known:
        batch.assets.append(Asset.native(Chain.SOL))
    for mint, dec in decimals.items():
        have = known.get(mint)
        if have is None:
            asset = Asset(Chain.SOL, mint, None, dec)
            batch.assets.append(asset)
            known[mint] = asset
        elif have.decimals != dec:
            batch.warnings.append(f"sol mint {mint}: decimals {have.decimals} and {dec} seen")


@dataclass(frozen=True, slots=True)
class SignatureInfo:
    """One entry of a getSignaturesForAddress page (newest first)."""

    signature: str
    slot: int
    block_time: int | None
    err: object
    memo: str | None
    confirmation_status: str | None

    @property
    def success(self) -> bool:
        return self.err is None


def parse_signatures(result: object, *, source: str | None = None) -> list[SignatureInfo]:
    """A getSignaturesForAddress result. ``{"__bigint__": "123"}`` integers (written by some
    JavaScript serializers) are accepted, since the values are exact decimal strings."""
    result = unwrap(result, source=source)
    if not isinstance(result, list):
        raise ParseError("expected an array of signature entries", source=source)
    out = []
    for i, e in enumerate(result):
        if not isinstance(e, Mapping):
            raise ParseError("expected an object", source=source, record=i)
        sig = e.get("signature")
        if not isinstance(sig, str) or not sig:
            raise ParseError("missing", source=source, record=i, field="signature")
        slot = _bigint(e.get("slot"), source, i, "slot")
        if slot is None:
            raise ParseError("missing", source=source, record=i, field="slot")
        memo = e.get("memo")
        status = e.get("confirmationStatus")
        out.append(
            SignatureInfo(
                sig,
                slot,
                _bigint(e.get("blockTime"), source, i, "blockTime"),
                e.get("err"),
                memo if isinstance(memo, str) else None,
                status if isinstance(status, str) else None,
            )
        )
    return out


def _bigint(v: object, source: str | None, record: int, field: str) -> int | None:
    if v is None:
        return None
    if isinstance(v, Mapping) and set(v) == {"__bigint__"}:
        v = v["__bigint__"]
        if isinstance(v, str) and v.isascii() and v.lstrip("-").isdigit():
            return int(v)
    elif isinstance(v, int) and not isinstance(v, bool):
        return v
    raise ParseError(f"{v!r} is not an integer", source=source, record=record, field=field)
