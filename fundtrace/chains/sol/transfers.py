"""From a transaction's decoded instructions to canonical ``Transfer`` records.

Lamports move between accounts and are recorded as such, including the lamports a closed
token account hands back (rent, or the wrapped amount when wrapped SOL is unwrapped). Tokens
move between *token accounts*, which an investigator cannot follow by name: the money belongs
to the account's owner wallet, so each token transfer is re-addressed to the owners, taken (in
that order) from the transaction's token balances, from an initializeAccount in the same
transaction (accounts created and closed inside it have no balance entry), or - for the
sending side only - from the instruction's authority. When no owner is known the token account
stays as the address and a warning says so, rather than guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fundtrace.chains.sol.instructions import (
    Instruction,
    LamportMove,
    TokenAccountClose,
    TokenAccountInit,
    TokenMove,
    decode_instruction,
)
from fundtrace.chains.sol.message import TxView
from fundtrace.chains.sol.programs import WSOL_MINT
from fundtrace.core.model import NATIVE, Transfer, TransferKind

ZERO_AMOUNT = "sol_zero_amount_movement"
UNKNOWN_MINT = "sol_token_transfer_unknown_mint"


@dataclass(slots=True)
class Decoding:
    """Everything one transaction's instructions say about value, with what could not be said.

    ``lamport_flows`` are all lamport movements between *accounts* the instructions imply, in
    execution order: System transfers, closed token accounts, and wrapped-SOL token transfers
    (the Token program moves a native account's lamports together with its amount). They are
    what the balance check compares with the recorded lamport changes.
    """

    transfers: list[Transfer] = field(default_factory=list)
    lamport_flows: list[tuple[str, str, int]] = field(default_factory=list)
    token_moves: list[tuple[Instruction, TokenMove, str | None]] = field(default_factory=list)
    inits: list[TokenAccountInit] = field(default_factory=list)
    decimals: dict[str, int] = field(default_factory=dict)  # mint -> decimals
    warnings: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def decode_transfers(view: TxView) -> Decoding:
    """Canonical transfers of ``view`` in execution order; a failed transaction has none."""
    out = Decoding()
    for tb in (*view.pre_token_balances, *view.post_token_balances):
        _note_decimals(out, view, tb.mint, tb.decimals)
    if not view.success:
        return out  # the runtime reverted every instruction; only the fee was charged

    decoded: list[tuple[Instruction, LamportMove | TokenMove | TokenAccountClose]] = []
    for ix in view.instructions:
        d = decode_instruction(ix, source=view.source, record=view.record)
        if d is None:
            continue
        if isinstance(d, TokenAccountInit):
            out.inits.append(d)
        else:
            decoded.append((ix, d))
    if not decoded:
        return out

    owners, mints = _token_accounts(view, out.inits)
    # Lamports of every account as execution goes on, so a closeAccount (which carries no
    # amount) moves exactly what the account holds at that point.
    ledger = dict(zip(view.account_keys, view.pre_balances, strict=True))
    for ix, d in decoded:
        kind = TransferKind.INTERNAL if ix.is_inner else TransferKind.NATIVE
        if isinstance(d, LamportMove | TokenAccountClose):
            if isinstance(d, LamportMove):
                src, dst, amount = d.source, d.destination, d.lamports
            else:
                src, dst, amount = d.account, d.destination, max(ledger.get(d.account, 0), 0)
            _flow(out, ledger, src, dst, amount)
            if amount == 0:
                out.skip(ZERO_AMOUNT)
                continue
            out.transfers.append(
                Transfer(ix.ordinal, kind, NATIVE, src, dst, amount, ix.trace_address)
            )
            continue
        mint = d.mint or mints.get(d.source or "") or mints.get(d.destination or "")
        out.token_moves.append((ix, d, mint))
        if mint == WSOL_MINT and d.source is not None and d.destination is not None:
            _flow(out, ledger, d.source, d.destination, d.amount)
        if d.decimals is not None and mint is not None:
            _note_decimals(out, view, mint, d.decimals)
        received = d.amount - d.fee
        if received <= 0:
            out.skip(ZERO_AMOUNT)
            continue
        if mint is None:
            out.skip(UNKNOWN_MINT)
            out.warnings.append(
                f"sol tx {view.signature}: token {d.instruction} at {ix.trace_address} of "
                f"{received} base units skipped: mint of {d.source} -> {d.destination} unknown"
            )
            continue
        src_owner = None
        if d.source is not None:
            src_owner = owners.get(d.source) or d.authority
            if src_owner is None:
                src_owner = d.source
                _unknown_owner(out, view, ix, d, d.source, "source")
        dst_owner = None
        if d.destination is not None:
            dst_owner = owners.get(d.destination)
            if dst_owner is None:
                dst_owner = d.destination
                _unknown_owner(out, view, ix, d, d.destination, "destination")
        out.transfers.append(
            Transfer(
                ix.ordinal,
                TransferKind.TOKEN,
                mint,
                src_owner,
                dst_owner,
                received,
                ix.trace_address,
            )
        )
    return out


def _flow(out: Decoding, ledger: dict[str, int], src: str, dst: str, amount: int) -> None:
    ledger[src] = ledger.get(src, 0) - amount
    ledger[dst] = ledger.get(dst, 0) + amount
    if amount:
        out.lamport_flows.append((src, dst, amount))


def _token_accounts(
    view: TxView, inits: list[TokenAccountInit]
) -> tuple[dict[str, str], dict[str, str]]:
    """token account -> owner wallet, token account -> mint, from balances then initializations."""
    owners: dict[str, str] = {}
    mints: dict[str, str] = {}
    for tb in (*view.pre_token_balances, *view.post_token_balances):
        if tb.owner is not None:
            owners.setdefault(tb.account, tb.owner)
        mints.setdefault(tb.account, tb.mint)
    for init in inits:
        owners.setdefault(init.account, init.owner)
        mints.setdefault(init.account, init.mint)
    return owners, mints


def _note_decimals(out: Decoding, view: TxView, mint: str, decimals: int) -> None:
    known = out.decimals.setdefault(mint, decimals)
    if known != decimals:
        out.warnings.append(
            f"sol tx {view.signature}: mint {mint} reported with {known} and {decimals} decimals"
        )


def _unknown_owner(
    out: Decoding, view: TxView, ix: Instruction, d: TokenMove, account: str, role: str
) -> None:
    out.warnings.append(
        f"sol tx {view.signature}: owner of token account {account} ({role} of {d.instruction} "
        f"at {ix.trace_address}) unknown; the token account is used as the address"
    )
