"""Typed decoding of Bitcoin Core ``getblock`` verbosity 2/3 responses straight from JSON bytes.

Why this exists: a verbosity-3 block is mostly text nothing reads (``asm``, ``desc``, the raw
``hex`` of every transaction, indentation), and the generic path turned all of it into Python
dicts, every amount into a ``Decimal``, then checked each field through generic helpers and
re-derived every script's type byte by byte. Here msgspec decodes only the fields the canonical
model keeps into typed structs (unknown fields are skipped in C without being materialised),
amounts stay as their JSON text (``msgspec.Raw``) and are turned into satoshi exactly a block at
a time, and the common script templates are recognised from their hex by prefix and length.

Exactness is kept by construction, not re-implemented: this path only accepts the common,
well-formed shape (a JSON-RPC envelope or a bare block, lowercase hex, amounts with exactly
eight decimals or plain decimal literals, every transaction consistent). Anything else, or
anything that fails a check here, raises ``Fallback`` and the caller hands the document to the
generic dict path (``core_rpc.parse_getblock``), so rare shapes and every error message behave
exactly as there. ``parse_getblock_bytes`` is that pairing for one document.

Where the optional C extension ``_getblock_native`` is built, ``getblock_batch`` asks it first:
it takes the same documents (or fewer) and gives the same Batch, without the per-item Python
loop; whatever it declines comes here. ``native`` is None where it is not built (no compiler),
and tests set it to None to cover the msgspec path on its own.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from decimal import Decimal
from itertools import accumulate, chain, compress, repeat
from operator import attrgetter

import numpy as np

try:
    import msgspec
    from msgspec import UNSET, Raw, Struct, UnsetType
except ImportError:  # pragma: no cover - the generic path still works without msgspec
    msgspec = None

from fundtrace.chains.btc.network import MAINNET, Network
from fundtrace.chains.btc.script import (
    PUBKEYHASH,
    SCRIPTHASH,
    WITNESS_V0_KEYHASH,
    WITNESS_V0_SCRIPTHASH,
    WITNESS_V1_TAPROOT,
)
from fundtrace.chains.btc.txbuild import claimed_address, script_type_and_address
from fundtrace.core.amounts import btc_to_sat
from fundtrace.core.bulk import slot_fields
from fundtrace.core.errors import ParseError
from fundtrace.core.model import Batch, Block, Chain, Transaction, TxInput, TxOutput


class Fallback(Exception):
    """This document is not in the shape the typed path handles; use the generic path."""


if msgspec is not None:
    from typing import Annotated

    # Lengths are checked by msgspec while decoding; the digits of all hashes (and of all
    # scripts) of a block are checked at once on their concatenation, which holds only hex
    # digits exactly when every piece does. Lowercase only: uppercase hex is valid input, but
    # rare, so it takes the generic path, which lowercases it.
    Hash = Annotated[str, msgspec.Meta(min_length=64, max_length=64)]
    _NULL = Raw(b"null")

    class _Spk(Struct, gc=False):
        hex: str
        address: str | None = None
        addresses: list[str] | None = None

    class _Prevout(Struct, gc=False):
        value: Raw
        scriptPubKey: _Spk

    class _Vin(Struct, gc=False):
        coinbase: Raw | UnsetType = UNSET
        txid: Hash | None = None
        vout: int | None = None
        sequence: int | None = None
        prevout: _Prevout | None = None

    class _Vout(Struct, gc=False):
        value: Raw
        n: int
        scriptPubKey: _Spk

    class _Tx(Struct, gc=False):
        txid: Hash
        vin: list[_Vin]
        vout: list[_Vout]
        fee: Raw = _NULL

    class _Block(Struct, gc=False):
        height: int
        hash: Hash
        time: int
        tx: list[_Tx]
        nTx: int | None = None
        previousblockhash: Hash | None = None
        # a block that also looks like a JSON-RPC envelope is read differently by the
        # generic path: such documents are left to it
        result: Raw | UnsetType = UNSET

    class _Doc(Struct, gc=False):
        # JSON-RPC envelope
        result: _Block | UnsetType = UNSET
        error: Raw | UnsetType = UNSET
        id: Raw | UnsetType = UNSET
        jsonrpc: Raw | UnsetType = UNSET
        # or a bare getblock result
        height: int | UnsetType = UNSET
        hash: Hash | UnsetType = UNSET
        time: int | UnsetType = UNSET
        tx: list[_Tx] | UnsetType = UNSET
        nTx: int | None = None
        previousblockhash: Hash | None = None

    _DOC = msgspec.json.Decoder(_Doc)
    _RAW = msgspec.json.Decoder(Raw)
    DecodeErrors: tuple[type[Exception], ...] = (
        Fallback,
        ValueError,  # msgspec.ValidationError and DecodeError are ValueErrors
    )
else:  # pragma: no cover
    DecodeErrors = (Fallback,)


_HEX_DIGITS = b"0123456789abcdef"


def _is_lower_hex(text: str) -> bool:
    """Only lowercase hex digits (deleting them all leaves nothing)."""
    return not text.encode().translate(None, _HEX_DIGITS)


def available() -> bool:
    """A typed decoder (native or msgspec) is at hand."""
    return msgspec is not None or native is not None


_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?").fullmatch


def _sat(raw: bytes) -> int:
    """One amount exactly as the generic path converts it (``json.loads`` then ``btc_to_sat``)."""
    text = bytes(raw)
    if not _NUMBER(text):
        raise Fallback
    literal = text.decode()
    value: int | Decimal = (
        int(literal) if text.isdigit() or text[1:].isdigit() else Decimal(literal)
    )
    try:
        return btc_to_sat(value)
    except ParseError:
        raise Fallback from None


def _sat_or_none(raw: bytes) -> int | None:
    """``_sat`` for the native decoder: None where this path would fall back."""
    try:
        return _sat(raw)
    except Fallback:
        return None


_DIGITS_AS_D = bytes.maketrans(b"0123456789", b"dddddddddd")
_POW10 = 10 ** np.arange(19, dtype=np.int64)
_NUMPY_FROM = 256  # below this many amounts, numpy's fixed cost is more than it saves


def _sats(raws: list) -> list[int]:
    """Amounts (their JSON number texts) -> satoshi, as ``_sat`` gives each, a block at a time.

    Bitcoin Core prints every amount with exactly eight decimals. Each raw is one valid JSON
    value; made only of digits and points, it is a plain decimal number, and if there are as
    many points as amounts and as many ".dddddddd," as amounts, each has its point right before
    its last eight digits: dropping the points leaves the satoshi digits. Anything else is
    converted one by one.
    """
    n = len(raws)
    if not n:
        return []
    joined = b",".join(raws) + b","
    if (
        joined.translate(None, b"0123456789.,")
        or joined.count(b".") != n
        or joined.translate(_DIGITS_AS_D).count(b".dddddddd,") != n
    ):
        return [_sat(r) for r in raws]
    digits = joined.replace(b".", b"")
    if n < _NUMPY_FROM:
        return list(map(int, digits[:-1].split(b",")))
    # Satoshi = sum of digit * 10**(places before the amount's end), summed per amount.
    b = np.frombuffer(digits, dtype=np.uint8)
    ends = np.flatnonzero(b == 44)  # the "," after each amount
    starts = np.empty(n, dtype=np.intp)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    widths = ends - starts
    if int(widths.max()) > 18:  # beyond int64: let Python's ints do it
        return list(map(int, digits[:-1].split(b",")))
    places = np.repeat(ends, widths + 1) - np.arange(len(b)) - 1
    values = b.astype(np.int64) - 48
    places[ends] = 0
    values[ends] = 0
    return np.add.reduceat(values * _POW10[places], starts).tolist()


def _classified(h: str, claimed: str | None, network: Network) -> tuple[str, str | None]:
    """(type, address) of one script exactly as ``core_rpc._script`` gives them."""
    if len(h) % 2 or not _is_lower_hex(h):
        raise Fallback
    return script_type_and_address(h, claimed, network)


# Templates recognised a block at a time: hex length -> (type, hex prefix, hex suffix). Lengths
# are distinct, so a script's length names its candidate template; whether every candidate of
# a length really has the template's prefix and suffix is checked on the concatenation of all
# of them with extended slices (``joined[i::length]`` holds character ``i`` of each script),
# which is C work, not Python work per script. Length 68 (P2WSH and P2TR) is told apart per
# script. Anything else goes through Core's rules in ``script.classify_script``.
_TEMPLATES: dict[int, tuple[str, str, str]] = {
    50: (PUBKEYHASH, "76a914", "88ac"),
    46: (SCRIPTHASH, "a914", "87"),
    44: (WITNESS_V0_KEYHASH, "0014", ""),
}
_WITNESS_32 = {"0020": WITNESS_V0_SCRIPTHASH, "5120": WITNESS_V1_TAPROOT}
_KIND_BY_LENGTH = {n: kind for n, (kind, _, _) in _TEMPLATES.items()}


def _all_match(joined: str, length: int, prefix: str, suffix: str) -> bool:
    """Every ``length``-character piece of ``joined`` starts with prefix and ends with suffix."""
    m = len(joined) // length
    tail = length - len(suffix)
    return all(joined[i::length] == c * m for i, c in enumerate(prefix)) and all(
        joined[tail + i :: length] == c * m for i, c in enumerate(suffix)
    )


_get_hex = attrgetter("hex")
_get_address = attrgetter("address")
_get_value = attrgetter("value")
_get_spk = attrgetter("scriptPubKey")


def _scripts(spks: list, network: Network) -> tuple[list, list, list]:
    """(types, addresses, hexes) of scriptPubKeys, as ``core_rpc._script`` gives each.

    Sources name the address (``address``, or a one-item ``addresses`` list); it is kept as
    the generic path keeps it, and derived from the script only where it is missing. Every
    script is checked to be lowercase hex on the way.
    """
    hexes = list(map(_get_hex, spks))
    addrs = list(map(_get_address, spks))
    if not all(addrs):
        addrs = [
            claimed_address(s.addresses) if a is None else a
            for s, a in zip(spks, addrs, strict=True)
        ]
    lens = list(map(len, hexes))
    kinds = list(map(_KIND_BY_LENGTH.get, lens))
    for length in set(lens):
        template = _TEMPLATES.get(length)
        if template is None and length != 68:
            continue  # checked one by one below
        joined = "".join(compress(hexes, map(length.__eq__, lens)))
        if length == 68:
            if _is_lower_hex(joined):
                for k, n in enumerate(lens):
                    if n == 68:
                        kinds[k] = _WITNESS_32.get(hexes[k][:4])
        elif not _is_lower_hex(joined) or not _all_match(joined, length, *template[1:]):
            kinds = [None if n == length else k for n, k in zip(lens, kinds, strict=True)]
    if not all(kinds) or not all(addrs):
        for k, kind in enumerate(kinds):
            if kind is None or not addrs[k]:
                kinds[k], addrs[k] = _classified(hexes[k], addrs[k], network)
    return kinds, addrs, hexes


def _block_of(doc: _Doc) -> _Block:
    """The block of an envelope or bare document, as the generic readers unwrap it."""
    if doc.result is not UNSET:
        err = doc.error
        # with an id and without an error both generic readers (``core_rpc.unwrap_rpc`` and
        # ``readers.unwrap``) unwrap it; they differ on other envelopes, which are left to them
        if doc.id is UNSET or (err is not UNSET and err != _NULL):
            raise Fallback
        block = doc.result
        if block.result is not UNSET:
            raise Fallback
        return block
    if (
        doc.error is not UNSET
        or doc.height is UNSET
        or doc.hash is UNSET
        or doc.time is UNSET
        or doc.tx is UNSET
    ):
        raise Fallback
    return doc  # type: ignore[return-value]  # same field names as _Block


def _groups(flat: list, at: list[int]) -> list[list]:
    """``flat`` cut at the offsets ``at`` (one list per group)."""
    return list(map(flat.__getitem__, map(slice, at[:-1], at[1:])))


def getblock_batch(data: bytes, network: Network = MAINNET) -> Batch:
    """The batch ``parse_getblock(json.loads(data, parse_float=Decimal))`` returns.

    The native decoder where built, else (or where it declines) ``typed_getblock_batch``; raises
    as that does when neither takes the document.
    """
    if native is not None:
        batch = Batch(Chain.BTC)
        if native.getblock(data, network, batch.blocks, batch.transactions):
            return batch
    if msgspec is None:
        raise Fallback
    return typed_getblock_batch(data, network)


def typed_getblock_batch(data: bytes, network: Network = MAINNET) -> Batch:
    """The batch ``parse_getblock(json.loads(data, parse_float=Decimal))`` returns (msgspec).

    Raises ``Fallback`` (or a msgspec error, a ``ValueError``) when the document is not in the
    common shape or is not valid; the caller then takes the generic path, which words errors.
    Works a column at a time (all outputs of the block, then all inputs, then transactions),
    so that the per-item Python work is mostly the model objects' own construction.
    """
    b = _block_of(_DOC.decode(data))
    height = b.height
    block_hash = b.hash
    time = b.time
    txs = b.tx
    parent = b.previousblockhash
    n_tx = len(txs)
    if not txs or (b.nTx is not None and b.nTx != n_tx):
        raise Fallback
    txids = list(map(_get_txid, txs))
    position = {txid: i for i, txid in enumerate(txids)}
    if len(position) != n_tx:  # a txid twice: the generic path resolves spends per output
        raise Fallback

    # outputs, all of the block
    out_counts = list(map(len, map(_get_vout, txs)))
    out_at = [0, *accumulate(out_counts)]
    vouts = list(chain.from_iterable(map(_get_vout, txs)))
    out_index = list(chain.from_iterable(map(range, out_counts)))
    if list(map(_get_n, vouts)) != out_index:
        raise Fallback
    out_kinds, out_addrs, out_hexes = _scripts(list(map(_get_spk, vouts)), network)

    # inputs: the first transaction is the coinbase, with exactly one input
    first = txs[0].vin
    if len(first) != 1 or first[0].coinbase is UNSET:
        raise Fallback
    in_counts = list(map(len, map(_get_vin, txs)))
    in_counts[0] = 0
    in_at = [0, *accumulate(in_counts)]
    vins = list(chain.from_iterable(map(_get_vin, txs[1:])))
    if list(map(_get_coinbase, vins)).count(UNSET) != len(vins):
        raise Fallback
    spent_txids = list(map(_get_txid, vins))
    spent_vouts = list(map(_get_vout, vins))
    if None in spent_vouts or None in spent_txids:  # the generic path words what is missing
        raise Fallback
    if not _is_lower_hex("".join([block_hash, parent or "", *txids, *spent_txids])):
        raise Fallback
    prevouts = list(map(_get_prevout, vins))
    known = prevouts if None not in prevouts else [p for p in prevouts if p is not None]
    fee_raws = list(map(_get_fee, txs))
    stated_raws = [f for f in fee_raws if f != _NULL]
    n_out = len(vouts)
    n_known = len(known)
    amounts = _sats(
        [*map(_get_value, vouts), *map(_get_value, known), *stated_raws],
    )
    out_values = amounts[:n_out]
    kinds, addrs, _ = _scripts(list(map(_get_spk, known)), network)
    if known is prevouts:  # verbosity 3
        in_values: list = amounts[n_out : n_out + n_known]
        in_kinds, in_addrs = kinds, addrs
    else:
        it_v, it_k, it_a = iter(amounts[n_out : n_out + n_known]), iter(kinds), iter(addrs)
        in_values = [None if p is None else next(it_v) for p in prevouts]
        in_kinds = [None if p is None else next(it_k) for p in prevouts]
        in_addrs = [None if p is None else next(it_a) for p in prevouts]
    stated_fees = iter(amounts[n_out + n_known :])

    # spends of outputs created earlier in this block: checked, or filled in (verbosity 2)
    spent_in = list(map(position.get, spent_txids))
    if spent_in.count(None) != len(spent_in):
        for k, p in enumerate(spent_in):
            if p is None or p >= bisect_right(in_at, k) - 1:
                continue  # not in this block, or not created yet
            vout = spent_vouts[k]
            if not 0 <= vout < out_counts[p]:
                continue
            o = out_at[p] + vout
            if in_values[k] is None:
                in_values[k], in_addrs[k], in_kinds[k] = out_values[o], out_addrs[o], out_kinds[o]
            elif in_values[k] != out_values[o]:
                raise Fallback

    outputs = _groups(
        list(map(TxOutput, out_index, out_values, out_kinds, out_addrs, out_hexes)), out_at
    )
    inputs = _groups(
        list(
            map(
                TxInput,
                chain.from_iterable(map(range, in_counts)),
                spent_txids,
                spent_vouts,
                in_values,
                in_addrs,
                in_kinds,
                map(_get_sequence, vins),
            )
        ),
        in_at,
    )
    inputs[0] = [TxInput(0, None, None)]

    # fees: inputs - outputs once every input value is known, and equal to any stated fee
    if fee_raws[0] != _NULL and next(stated_fees) != 0:
        raise Fallback
    fees: list[int | None] = [0]
    in_sum = 0 if None in in_values else [0, *accumulate(in_values)]
    out_sum = [0, *accumulate(out_values)]
    for i in range(1, n_tx):
        stated = None if fee_raws[i] == _NULL else next(stated_fees)
        if in_sum:
            fee = (
                in_sum[in_at[i + 1]]
                - in_sum[in_at[i]]
                - out_sum[out_at[i + 1]]
                + out_sum[out_at[i]]
            )
        else:
            values = in_values[in_at[i] : in_at[i + 1]]
            if None in values:
                fees.append(stated)
                continue
            fee = sum(values) - out_sum[out_at[i + 1]] + out_sum[out_at[i]]
        if fee < 0 or (stated is not None and stated != fee):
            raise Fallback
        fees.append(fee)

    coinbase = [True, *repeat(False, n_tx - 1)]
    transactions = list(
        map(
            Transaction,
            repeat(Chain.BTC, n_tx),
            txids,
            repeat(height, n_tx),
            repeat(block_hash, n_tx),
            range(n_tx),
            repeat(time, n_tx),
            fees,
            repeat(True, n_tx),
            repeat(None, n_tx),
            repeat(None, n_tx),
            repeat(None, n_tx),
            coinbase,
            inputs,
            outputs,
            [[] for _ in range(n_tx)],
        )
    )
    block = Block(Chain.BTC, height, block_hash, time, parent, n_tx)
    return Batch(Chain.BTC, blocks=[block], transactions=transactions)


_get_txid = attrgetter("txid")
_get_vin = attrgetter("vin")
_get_vout = attrgetter("vout")
_get_n = attrgetter("n")
_get_coinbase = attrgetter("coinbase")
_get_prevout = attrgetter("prevout")
_get_sequence = attrgetter("sequence")
_get_fee = attrgetter("fee")


def is_one_document(data: bytes) -> bool | None:
    """True if ``data`` is exactly one JSON value, False if one value followed by more (JSON
    lines), None if it is not JSON at all (the generic reader then words the error)."""
    try:
        _RAW.decode(data)
    except msgspec.DecodeError as exc:
        return False if "trailing characters" in str(exc) else None
    return True


def init_native(*, direct: bool = True) -> bool:
    """Hand the model classes and the Python helpers to the native decoder; True when it makes
    objects by filling their slots (``direct`` and ``slot_fields`` allows it), False when it
    calls the classes."""
    assert native is not None
    return native.init(
        Block,
        Transaction,
        TxInput,
        TxOutput,
        Chain.BTC,
        (PUBKEYHASH, SCRIPTHASH, WITNESS_V0_KEYHASH, WITNESS_V0_SCRIPTHASH, WITNESS_V1_TAPROOT),
        script_type_and_address,
        _sat_or_none,
        slot_fields(Block, Transaction, TxInput, TxOutput) if direct else None,
    )


try:
    from fundtrace.chains.btc import _getblock_native as native
except ImportError:  # pragma: no cover - built by setup.py where a C compiler is at hand
    native = None
else:
    init_native()
