"""Canonical, chain-neutral records that every adapter produces and every engine consumes.

The model is deliberately *two-shaped*, because the chains are:

* **UTXO (Bitcoin).** A transaction spends whole earlier outputs (``TxInput`` names the exact
  ``txid:vout`` it consumes) and creates new outputs (``TxOutput``). Flattening that into
  address-to-address edges would lose which output paid which, and with it every UTXO taint
  model, so inputs and outputs are kept as they are.
* **Accounts (Ethereum, Solana).** A transaction moves balances: the native coin at top level,
  internal calls / inner instructions, and tokens (ERC-20 ``Transfer`` logs, SPL transfers).
  Each movement is a ``Transfer`` with a stable per-transaction position.

Amounts are Python ``int`` in the asset's base units (satoshi, wei, lamport, token base
units); decimals live on ``Asset``. Nothing here imports Django: the CLI, Django, Spark jobs
and stream consumers all share these records.

Identity / idempotency keys (mirrored by the database's unique constraints):

* block: ``(chain, number)`` (one canonical block per height; re-orgs replace it)
* transaction: ``(chain, hash)``
* output: ``(chain, txid, index)``; input: ``(chain, txid, index)``
* transfer: ``(chain, tx_hash, kind, index)`` where ``index`` is
  - Ethereum token transfers: the log index (block-wide, as the node reports it);
  - Ethereum native/internal: the call's ordinal in the depth-first flattened call tree
    (0 = the top-level call, whose value is the transaction's ``value``);
  - Solana: the instruction's ordinal in execution order, outer instruction then its inner
    instructions (outer 0, inner 0.0, 0.1, outer 1, ...), counting from 0.
  ``native`` is the top-level movement, ``internal`` a nested one, ``token`` any fungible token.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

NATIVE = "native"
"""``Asset.asset_id`` of a chain's own coin (BTC, ETH, SOL)."""

UINT256_MAX = 2**256 - 1


class Chain(StrEnum):
    BTC = "btc"
    ETH = "eth"
    SOL = "sol"

    @property
    def is_utxo(self) -> bool:
        return self is Chain.BTC

    @property
    def native_decimals(self) -> int:
        return NATIVE_DECIMALS[self]

    @property
    def native_symbol(self) -> str:
        return NATIVE_SYMBOL[self]


NATIVE_DECIMALS = {Chain.BTC: 8, Chain.ETH: 18, Chain.SOL: 9}
NATIVE_SYMBOL = {Chain.BTC: "BTC", Chain.ETH: "ETH", Chain.SOL: "SOL"}


class TransferKind(StrEnum):
    NATIVE = "native"
    INTERNAL = "internal"
    TOKEN = "token"


class ModelError(ValueError):
    """A record violates the canonical model's invariants (negative amount, bad key...)."""


def check_amount(value: int, what: str) -> int:
    """Money is an exact non-negative int that fits a uint256; anything else is a bug upstream."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ModelError(f"{what}: amount must be an int in base units, got {type(value).__name__}")
    if value < 0 or value > UINT256_MAX:
        raise ModelError(f"{what}: amount {value} is outside 0..2**256-1")
    return value


@dataclass(frozen=True, slots=True)
class Asset:
    chain: Chain
    asset_id: str  # NATIVE, lowercase ERC-20 contract address, or SPL mint (base58)
    symbol: str | None = None
    decimals: int | None = None
    name: str | None = None

    @classmethod
    def native(cls, chain: Chain) -> Asset:
        return cls(chain, NATIVE, chain.native_symbol, chain.native_decimals, chain.native_symbol)


@dataclass(slots=True)
class Block:
    chain: Chain
    number: int  # height (BTC/ETH) or slot (SOL)
    hash: str
    timestamp: int | None  # unix seconds, UTC
    parent_hash: str | None = None
    tx_count: int | None = None
    miner: str | None = None  # ETH coinbase / SOL leader, receives fees


@dataclass(slots=True)
class TxOutput:
    index: int
    value: int
    script_type: str  # pubkey, pubkeyhash, scripthash, witness_v0_keyhash, witness_v0_scripthash,
    # witness_v1_taproot, multisig, nulldata, nonstandard, witness_unknown
    address: str | None = (
        None  # None when the script has no standard address (OP_RETURN, bare multisig)
    )
    script_hex: str | None = None


@dataclass(slots=True)
class TxInput:
    index: int
    spent_txid: str | None  # None for a coinbase input
    spent_vout: int | None
    value: int | None = None  # known from verbosity-3 prevouts, Esplora, etl; None until resolved
    address: str | None = None
    script_type: str | None = None
    sequence: int | None = None

    @property
    def is_coinbase(self) -> bool:
        return self.spent_txid is None


@dataclass(slots=True)
class Transfer:
    index: int
    kind: TransferKind
    asset: str  # Asset.asset_id
    from_address: str | None  # None: minted / created from nothing (e.g. a token mint)
    to_address: str | None  # None: burned
    amount: int
    trace_address: str | None = (
        None  # ETH call path ("0,1") or SOL "outer.inner" position, for explanation
    )


@dataclass(slots=True)
class Transaction:
    """One transaction of any chain.

    For Bitcoin ``inputs``/``outputs`` are filled and ``transfers`` is empty; for account chains
    it is the other way round. ``fee`` is paid by ``fee_payer`` (account chains) or is
    ``sum(inputs) - sum(outputs)`` (Bitcoin; None while an input value is unknown).
    ``success`` False means the chain recorded the transaction but it moved no value except the fee.
    """

    chain: Chain
    hash: str
    block_number: int | None
    block_hash: str | None = None
    tx_index: int | None = None  # position in the block
    timestamp: int | None = None
    fee: int | None = None
    success: bool = True
    fee_payer: str | None = None  # ETH sender / SOL fee payer
    to_address: str | None = None  # ETH ``to`` (None for contract creation)
    value: int | None = None  # ETH top-level value; None where the chain has no such notion
    is_coinbase: bool = False
    inputs: list[TxInput] = field(default_factory=list)
    outputs: list[TxOutput] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)

    def input_total(self) -> int | None:
        if any(i.value is None for i in self.inputs if not i.is_coinbase):
            return None
        return sum(i.value or 0 for i in self.inputs)

    def output_total(self) -> int:
        return sum(o.value for o in self.outputs)

    def computed_fee(self) -> int | None:
        """Bitcoin fee = inputs - outputs; 0 for a coinbase; None while an input is unknown."""
        if self.is_coinbase:
            return 0
        total_in = self.input_total()
        return None if total_in is None else total_in - self.output_total()

    def validate(self) -> None:
        """Raise ``ModelError`` naming the first field that breaks an invariant."""
        where = f"{self.chain}:{self.hash}"
        if not self.hash:
            raise ModelError(f"{where}: empty transaction hash")
        if self.fee is not None:
            check_amount(self.fee, f"{where} fee")
        for o in self.outputs:
            check_amount(o.value, f"{where} output {o.index}")
        for i in self.inputs:
            if i.value is not None:
                check_amount(i.value, f"{where} input {i.index}")
        keys = set()
        for t in self.transfers:
            check_amount(t.amount, f"{where} transfer {t.kind}:{t.index}")
            key = (t.kind, t.index)
            if key in keys:
                raise ModelError(f"{where}: duplicate transfer key {t.kind}:{t.index}")
            keys.add(key)
        if self.chain.is_utxo and not self.is_coinbase:
            fee = self.computed_fee()
            if fee is not None and fee < 0:
                raise ModelError(f"{where}: outputs exceed inputs by {-fee}")


@dataclass(slots=True)
class Batch:
    """What one parse step yields: everything needed to store a block range or a file atomically."""

    chain: Chain
    blocks: list[Block] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count (e.g. "erc721_log": 3)

    def extend(self, other: Batch) -> None:
        if other.chain != self.chain:
            raise ModelError(f"cannot merge a {other.chain} batch into a {self.chain} batch")
        self.blocks.extend(other.blocks)
        self.transactions.extend(other.transactions)
        self.assets.extend(other.assets)
        self.warnings.extend(other.warnings)
        for k, v in other.skipped.items():
            self.skipped[k] = self.skipped.get(k, 0) + v

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n


def iter_native_outflows(tx: Transaction) -> Iterable[tuple[str, int]]:
    """(address, amount) of native value leaving addresses in an account-chain tx, fee included."""
    if tx.fee and tx.fee_payer:
        yield tx.fee_payer, tx.fee
    for t in tx.transfers:
        if t.asset == NATIVE and t.from_address is not None:
            yield t.from_address, t.amount
