"""One getTransaction / getBlock entry, in any RPC encoding, read into a single plain view.

The RPC can return a transaction as ``jsonParsed`` (account keys as objects that already include
lookup-table addresses, instructions pre-decoded), ``json`` (key strings plus
``meta.loadedAddresses``, instructions as index lists and base58 data) or ``base64``/``base58``
(the wire transaction). ``TxView`` is what all of them have in common once account indexes are
resolved, so the mapping to canonical records and the balance checks are written once.
Everything read here is validated with an error that names the JSON field, because a wrong
index would silently attribute money to the wrong account.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from solders.message import MessageV0
from solders.transaction import VersionedTransaction

from fundtrace.chains.sol.instructions import (
    Instruction,
    b58decode,
    resolve_account_keys,
)
from fundtrace.chains.sol.programs import DECODED_PROGRAMS
from fundtrace.core.errors import ParseError


@dataclass(frozen=True, slots=True)
class TokenBalance:
    """A token account's balance before or after the transaction (``meta.*TokenBalances``)."""

    account_index: int
    account: str
    mint: str
    owner: str | None
    program_id: str | None
    amount: int
    decimals: int


@dataclass(slots=True)
class TxView:
    signature: str
    version: str  # "legacy" or "0"
    encoding: str  # jsonParsed | json | base64 | base58
    account_keys: list[str]
    instructions: list[Instruction]
    fee: int
    err: object  # None when the transaction succeeded
    pre_balances: list[int]
    post_balances: list[int]
    pre_token_balances: list[TokenBalance] = field(default_factory=list)
    post_token_balances: list[TokenBalance] = field(default_factory=list)
    slot: int | None = None
    block_time: int | None = None
    tx_index: int | None = None
    source: str | None = None
    record: int | str | None = None

    @property
    def success(self) -> bool:
        return self.err is None

    @property
    def fee_payer(self) -> str:
        return self.account_keys[0]

    def error(self, message: str, field: str | None = None) -> ParseError:
        return ParseError(message, source=self.source, record=self.record, field=field)


class _Reader:
    """Carries the error location while one entry is read."""

    __slots__ = ("record", "source")

    def __init__(self, source: str | None, record: int | str | None) -> None:
        self.source = source
        self.record = record

    def error(self, message: str, field: str | None) -> ParseError:
        return ParseError(message, source=self.source, record=self.record, field=field)

    def get(self, obj: Mapping[str, object], key: str, path: str) -> object:
        if key not in obj:
            raise self.error("missing", f"{path}{key}")
        return obj[key]

    def mapping(self, obj: object, path: str) -> Mapping[str, object]:
        if not isinstance(obj, Mapping):
            raise self.error(f"expected an object, got {type(obj).__name__}", path)
        return obj

    def list(self, obj: object, path: str) -> list:
        if not isinstance(obj, list):
            raise self.error(f"expected an array, got {type(obj).__name__}", path)
        return obj

    def uint(self, v: object, path: str) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.error(f"{v!r} is not an integer", path)
        if v < 0:
            raise self.error(f"{v} is negative", path)
        return v

    def opt_uint(self, v: object, path: str) -> int | None:
        return None if v is None else self.uint(v, path)

    def address(self, v: object, path: str) -> str:
        if not isinstance(v, str) or not v:
            raise self.error(f"{v!r} is not a base58 address", path)
        return v

    def index(self, v: object, keys: Sequence[str], path: str) -> str:
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < len(keys):
            raise self.error(f"account index {v!r} outside the {len(keys)} account keys", path)
        return keys[v]

    def b58(self, v: object, path: str) -> bytes:
        if not isinstance(v, str):
            raise self.error(f"{v!r} is not base58 data", path)
        try:
            return b58decode(v)
        except ValueError as exc:
            raise self.error(str(exc), path) from None


def read_transaction(
    entry: Mapping[str, object], *, source: str | None = None, record: int | str | None = None
) -> TxView:
    """Read a getTransaction ``result`` or one getBlock ``transactions[i]`` entry."""
    r = _Reader(source, record)
    entry = r.mapping(entry, "result")
    tx_obj = r.get(entry, "transaction", "")
    meta_obj = r.get(entry, "meta", "")
    if meta_obj is None:
        raise r.error("meta is null: the node recorded no fee, status or balances", "meta")
    meta = r.mapping(meta_obj, "meta")

    if isinstance(tx_obj, list):
        signature, version, encoding, keys, outer = _read_wire(r, tx_obj, meta)
    else:
        tx_map = r.mapping(tx_obj, "transaction")
        signature, version, encoding, keys, outer = _read_json(r, tx_map, meta)
    if r.record is None:
        r.record = signature
    raw_version = entry.get("version")
    if raw_version is not None:
        version = str(raw_version)

    fee = r.uint(r.get(meta, "fee", "meta."), "meta.fee")
    if "err" in meta:
        err = meta["err"]
    else:
        status = r.mapping(r.get(meta, "status", "meta."), "meta.status")
        err = None if "Ok" in status else status.get("Err", status)

    pre = _balances(r, meta, "preBalances", len(keys))
    post = _balances(r, meta, "postBalances", len(keys))
    if not keys:
        raise r.error("transaction has no account keys", "transaction.message.accountKeys")

    instructions = _order_instructions(r, outer, meta, keys, encoding)
    pre_tok = _token_balances(r, meta, "preTokenBalances", keys)
    post_tok = _token_balances(r, meta, "postTokenBalances", keys)

    slot = r.opt_uint(entry.get("slot"), "slot")
    block_time = entry.get("blockTime")
    if block_time is not None and (isinstance(block_time, bool) or not isinstance(block_time, int)):
        raise r.error(f"{block_time!r} is not a unix time", "blockTime")
    tx_index = r.opt_uint(entry.get("transactionIndex"), "transactionIndex")
    return TxView(
        signature=signature,
        version=version,
        encoding=encoding,
        account_keys=keys,
        instructions=instructions,
        fee=fee,
        err=err,
        pre_balances=pre,
        post_balances=post,
        pre_token_balances=pre_tok,
        post_token_balances=post_tok,
        slot=slot,
        block_time=block_time,
        tx_index=tx_index,
        source=source,
        record=r.record,
    )


# An outer instruction before account resolution: a JSON object (json / jsonParsed), or
# (programIdIndex, account indexes, data bytes) from a decoded wire message.
_Outer = Mapping[str, object] | tuple[int, Sequence[int], bytes]


def _read_json(
    r: _Reader, tx: Mapping[str, object], meta: Mapping[str, object]
) -> tuple[str, str, str, list[str], list[_Outer]]:
    sigs = r.list(r.get(tx, "signatures", "transaction."), "transaction.signatures")
    if not sigs:
        raise r.error("no signatures", "transaction.signatures")
    signature = r.address(sigs[0], "transaction.signatures[0]")
    msg = r.mapping(r.get(tx, "message", "transaction."), "transaction.message")
    raw_keys = r.list(
        r.get(msg, "accountKeys", "transaction.message."), "transaction.message.accountKeys"
    )
    outer = r.list(
        r.get(msg, "instructions", "transaction.message."), "transaction.message.instructions"
    )
    lookups = msg.get("addressTableLookups")
    version = "legacy" if lookups is None else "0"
    if raw_keys and isinstance(raw_keys[0], Mapping):
        # jsonParsed: key objects, lookup-table addresses already appended by the node
        keys = [
            r.address(
                k.get("pubkey") if isinstance(k, Mapping) else None,
                f"transaction.message.accountKeys[{i}].pubkey",
            )
            for i, k in enumerate(raw_keys)
        ]
        return signature, version, "jsonParsed", keys, outer
    static = [r.address(k, f"transaction.message.accountKeys[{i}]") for i, k in enumerate(raw_keys)]
    n_lookup = 0
    for t, lu in enumerate(
        r.list(lookups, "transaction.message.addressTableLookups") if lookups else []
    ):
        lp = f"transaction.message.addressTableLookups[{t}]"
        lu = r.mapping(lu, lp)
        for key in ("writableIndexes", "readonlyIndexes"):
            n_lookup += len(r.list(r.get(lu, key, f"{lp}."), f"{lp}.{key}"))
    return signature, version, "json", _with_loaded(r, static, meta, n_lookup), outer


def _read_wire(
    r: _Reader, tx: list, meta: Mapping[str, object]
) -> tuple[str, str, str, list[str], list[_Outer]]:
    if len(tx) != 2 or not isinstance(tx[0], str) or tx[1] not in ("base64", "base58"):
        raise r.error('expected ["<data>", "base64"|"base58"]', "transaction")
    encoding = tx[1]
    try:
        raw = base64.b64decode(tx[0], validate=True) if encoding == "base64" else b58decode(tx[0])
        vtx = VersionedTransaction.from_bytes(raw)
    except (ValueError, binascii.Error) as exc:
        raise r.error(f"not a {encoding} wire transaction: {exc}", "transaction") from None
    if not vtx.signatures:
        raise r.error("no signatures", "transaction")
    signature = str(vtx.signatures[0])
    msg = vtx.message
    static = [str(k) for k in msg.account_keys]
    lookups = 0
    version = "legacy"
    if isinstance(msg, MessageV0):
        version = "0"
        lookups = sum(
            len(lu.writable_indexes) + len(lu.readonly_indexes) for lu in msg.address_table_lookups
        )
    keys = _with_loaded(r, static, meta, lookups)
    outer: list[_Outer] = [
        (ci.program_id_index, list(ci.accounts), bytes(ci.data)) for ci in msg.instructions
    ]
    return signature, version, encoding, keys, outer


def _with_loaded(
    r: _Reader, static: list[str], meta: Mapping[str, object], lookups: int
) -> list[str]:
    loaded = meta.get("loadedAddresses")
    if loaded is not None and not isinstance(loaded, Mapping):
        raise r.error("expected an object", "meta.loadedAddresses")
    try:
        return resolve_account_keys(static, loaded, lookups=lookups)
    except ValueError as exc:
        raise r.error(str(exc), "meta.loadedAddresses") from None


def _balances(r: _Reader, meta: Mapping[str, object], key: str, n: int) -> list[int]:
    path = f"meta.{key}"
    values = r.list(r.get(meta, key, "meta."), path)
    if len(values) != n:
        raise r.error(f"{len(values)} balances for {n} account keys", path)
    if all(type(v) is int and v >= 0 for v in values):
        return list(values)
    return [r.uint(v, f"{path}[{i}]") for i, v in enumerate(values)]


def _token_balances(
    r: _Reader, meta: Mapping[str, object], key: str, keys: list[str]
) -> list[TokenBalance]:
    path = f"meta.{key}"
    values = meta.get(key)
    if values is None:
        return []
    out = []
    for i, item in enumerate(r.list(values, path)):
        p = f"{path}[{i}]"
        tb = r.mapping(item, p)
        idx = tb.get("accountIndex")
        account = r.index(idx, keys, f"{p}.accountIndex")
        mint = r.address(tb.get("mint"), f"{p}.mint")
        ui = r.mapping(r.get(tb, "uiTokenAmount", f"{p}."), f"{p}.uiTokenAmount")
        amount = ui.get("amount")
        if not isinstance(amount, str) or not (amount.isascii() and amount.isdigit()):
            raise r.error(f"{amount!r} is not a decimal string", f"{p}.uiTokenAmount.amount")
        decimals = r.uint(ui.get("decimals"), f"{p}.uiTokenAmount.decimals")
        owner = tb.get("owner")
        program_id = tb.get("programId")
        out.append(
            TokenBalance(
                account_index=idx,  # type: ignore[arg-type]  # checked by r.index
                account=account,
                mint=mint,
                owner=owner if isinstance(owner, str) and owner else None,
                program_id=program_id if isinstance(program_id, str) and program_id else None,
                amount=int(amount),
                decimals=decimals,
            )
        )
    return out


def _order_instructions(
    r: _Reader,
    outer: list[_Outer],
    meta: Mapping[str, object],
    keys: list[str],
    encoding: str,
) -> list[Instruction]:
    """Outer instruction i, then its inner instructions, then outer i+1: execution order."""
    inner_by_outer: dict[int, tuple[int, list]] = {}
    groups = meta.get("innerInstructions")
    if groups is not None:
        for g, group in enumerate(r.list(groups, "meta.innerInstructions")):
            gp = f"meta.innerInstructions[{g}]"
            group = r.mapping(group, gp)
            idx = r.uint(r.get(group, "index", f"{gp}."), f"{gp}.index")
            if idx >= len(outer):
                raise r.error(f"inner instructions of outer #{idx} but only {len(outer)}", gp)
            if idx in inner_by_outer:
                raise r.error(f"second group for outer instruction #{idx}", gp)
            items = r.list(r.get(group, "instructions", f"{gp}."), f"{gp}.instructions")
            inner_by_outer[idx] = (g, items)

    out: list[Instruction] = []
    ordinal = 0
    for i, item in enumerate(outer):
        out.append(
            _instruction(r, item, keys, ordinal, i, None, f"transaction.message.instructions[{i}]")
        )
        ordinal += 1
        if i in inner_by_outer:
            g, items = inner_by_outer[i]
            for j, inner in enumerate(items):
                path = f"meta.innerInstructions[{g}].instructions[{j}]"
                out.append(_instruction(r, inner, keys, ordinal, i, j, path))
                ordinal += 1
    return out


def _instruction(
    r: _Reader,
    item: _Outer,
    keys: list[str],
    ordinal: int,
    outer: int,
    inner: int | None,
    path: str,
) -> Instruction:
    if isinstance(item, tuple):  # decoded wire message
        pidx, acc_idx, data = item
        program_id = r.index(pidx, keys, f"{path}.programIdIndex")
        accounts = _resolve(r, acc_idx, keys, path)
        return Instruction(
            ordinal,
            outer,
            inner,
            program_id,
            accounts,
            data if program_id in DECODED_PROGRAMS else None,
            None,
            path,
        )
    ix = r.mapping(item, path)
    if "programIdIndex" in ix:  # json encoding
        program_id = r.index(ix["programIdIndex"], keys, f"{path}.programIdIndex")
        acc_idx = r.list(r.get(ix, "accounts", f"{path}."), f"{path}.accounts")
        accounts = _resolve(r, acc_idx, keys, path)
    else:  # jsonParsed: program id and accounts spelled out
        program_id = r.address(r.get(ix, "programId", f"{path}."), f"{path}.programId")
        if "parsed" in ix:
            parsed = ix["parsed"]
            return Instruction(
                ordinal,
                outer,
                inner,
                program_id,
                (),
                None,
                parsed if isinstance(parsed, Mapping) else None,
                path,
            )
        accounts = tuple(
            r.address(a, f"{path}.accounts[{k}]")
            for k, a in enumerate(r.list(r.get(ix, "accounts", f"{path}."), f"{path}.accounts"))
        )
    data = None
    if program_id in DECODED_PROGRAMS:
        data = r.b58(r.get(ix, "data", f"{path}."), f"{path}.data")
    return Instruction(ordinal, outer, inner, program_id, accounts, data, None, path)


def _resolve(r: _Reader, indexes: Sequence[object], keys: list[str], path: str) -> tuple[str, ...]:
    """Account indexes -> addresses; the per-index error path is only built when one is bad."""
    n = len(keys)
    if all(type(a) is int and 0 <= a < n for a in indexes):
        return tuple([keys[a] for a in indexes])  # type: ignore[index]
    return tuple(r.index(a, keys, f"{path}.accounts[{k}]") for k, a in enumerate(indexes))
