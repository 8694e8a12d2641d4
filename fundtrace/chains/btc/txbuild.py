"""Construction rules every Bitcoin source shares, so the same transaction is the same record.

* A coinbase transaction has exactly one input, ``TxInput(0, None, None)`` with nothing else
  set: bitcoin-etl exports no coinbase input at all and Core/Esplora disagree on its fields, so
  keeping any of them would make the stored record depend on which source came first.
* Script types are classified from the script bytes (Core's rules); addresses come from the
  source when it names exactly one, else are derived from the script; addressless types
  (OP_RETURN, bare multisig, non-standard) never carry one, whatever the source claims.
* ``fee`` is inputs - outputs once every input value is known and must then agree with any fee
  the source states; before that it is the source's own fee if it has one (Core computes it
  from undo data), else None.
"""

from __future__ import annotations

from fundtrace.chains.btc.fields import FieldPath, Where
from fundtrace.chains.btc.network import Network
from fundtrace.chains.btc.script import (
    ADDRESSLESS_TYPES,
    address_for,
    canonical_script_type,
    classify_script,
)
from fundtrace.core.model import Transaction, TxInput


def coinbase_input() -> TxInput:
    return TxInput(0, None, None)


def script_type_and_address(
    script_hex: str, claimed: str | None, network: Network
) -> tuple[str, str | None]:
    """Canonical (type, address) of an output script in (validated, lowercase) hex."""
    kind, witver, data = classify_script(bytes.fromhex(script_hex))
    if kind in ADDRESSLESS_TYPES:
        return kind, None
    if claimed:
        return kind, claimed
    return kind, address_for(kind, witver, data, network)


def claimed_address(addresses: object) -> str | None:
    """The one address a Core/bitcoin-etl ``addresses`` list names, if it names exactly one.

    bitcoin-etl writes ``nonstandard<sha256>`` pseudo-addresses for scripts without one; they
    identify nothing on chain, so they are dropped here.
    """
    if isinstance(addresses, list) and len(addresses) == 1:
        value = addresses[0]
        if isinstance(value, str) and value and not value.startswith("nonstandard"):
            return value
    return None


def label_type(label: object, where: Where, field: FieldPath) -> str | None:
    """A source's script type label mapped to the canonical name (used when no script is given)."""
    if label is None:
        return None
    if not isinstance(label, str):
        raise where.error(f"expected a script type name, got {label!r}", field)
    try:
        return canonical_script_type(label)
    except KeyError as exc:
        raise where.error(str(exc.args[0]), field) from None


def finalize_fee(tx: Transaction, source_fee: int | None, where: Where, field: FieldPath) -> None:
    """Set ``tx.fee`` by the rules in the module docstring; inconsistent input is a ParseError."""
    if tx.is_coinbase:
        if source_fee not in (None, 0):
            raise where.error(f"coinbase {tx.hash} states fee {source_fee}, expected 0", field)
        tx.fee = 0
        return
    computed = tx.computed_fee()
    if computed is None:
        tx.fee = source_fee
        return
    if computed < 0:
        raise where.error(f"tx {tx.hash}: outputs exceed inputs by {-computed} sat", field)
    if source_fee is not None and source_fee != computed:
        raise where.error(
            f"tx {tx.hash}: stated fee {source_fee} sat but inputs - outputs = {computed} sat",
            field,
        )
    tx.fee = computed
