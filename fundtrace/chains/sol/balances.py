"""The balance figures the chain itself fixes, checked against what the parser decoded.

Every transaction's meta carries each account's lamports and token balances before and after.
Three facts follow from the runtime and make a parse verifiable without trusting the decoder:

* lamports are conserved except the fee: ``sum(post) - sum(pre) == -fee`` (a violation means the
  record is corrupt, so it is an error);
* the fee plus the decoded lamport movements (System transfers, closed token accounts,
  wrapped-SOL transfers) should explain every account's lamport change; what they do not
  explain (rent, stake and vote, programs debiting accounts they own) is real value flow the
  transfers miss, so it is reported account by account;
* per mint, token amounts are conserved except mints and burns (and Token-2022 fees withheld);
  the exception seen on mainnet is wrapped SOL, whose amount tracks lamports synced into or
  closed out of a token account.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from fundtrace.chains.sol.message import TxView
from fundtrace.chains.sol.programs import WSOL_MINT
from fundtrace.chains.sol.transfers import Decoding
from fundtrace.core.errors import ParseError


@dataclass(slots=True)
class BalanceReport:
    signature: str
    fee: int
    lamport_sum: int  # sum(postBalances) - sum(preBalances)
    unexplained_lamports: dict[str, int] = field(default_factory=dict)
    unexplained_mints: dict[str, int] = field(default_factory=dict)
    unexplained_token_accounts: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def lamport_sum_ok(self) -> bool:
        return self.lamport_sum == -self.fee

    @property
    def explained(self) -> bool:
        return self.lamport_sum_ok and not (
            self.unexplained_lamports or self.unexplained_mints or self.unexplained_token_accounts
        )

    def warnings(self) -> list[str]:
        """One line per kind of gap, naming accounts and exact amounts."""
        out = []
        sig = self.signature
        if not self.lamport_sum_ok:
            out.append(f"sol tx {sig}: lamport deltas sum to {self.lamport_sum}, not -{self.fee}")
        if self.unexplained_lamports:
            out.append(
                f"sol tx {sig}: lamport changes not explained by the fee and decoded transfers "
                "(e.g. rent, stake, a program debiting an account it owns): "
                + _fmt(self.unexplained_lamports.items())
            )
        if self.unexplained_mints:
            parts = []
            for mint, delta in self.unexplained_mints.items():
                note = " (wrapped SOL synced/closed)" if mint == WSOL_MINT else ""
                parts.append(f"{mint} {delta:+d}{note}")
            out.append(
                f"sol tx {sig}: token supply change not explained by mint/burn: " + ", ".join(parts)
            )
        if self.unexplained_token_accounts:
            out.append(
                f"sol tx {sig}: token account changes not explained by token transfers: "
                + _fmt(
                    (f"{acct} [{mint}]", d)
                    for (acct, mint), d in self.unexplained_token_accounts.items()
                )
            )
        return out


def _fmt(items: Iterable[tuple[str, int]]) -> str:
    return ", ".join(f"{k} {v:+d}" for k, v in items)


def lamport_deltas(view: TxView) -> dict[str, int]:
    """account -> post - pre lamports, for every account whose balance changed."""
    out: dict[str, int] = {}
    for key, pre, post in zip(
        view.account_keys, view.pre_balances, view.post_balances, strict=True
    ):
        if post != pre:
            out[key] = out.get(key, 0) + post - pre
    return out


def token_deltas(view: TxView) -> dict[tuple[str, str], int]:
    """(token account, mint) -> post - pre amount; a missing side counts as 0 (created/closed)."""
    out: dict[tuple[str, str], int] = {}
    for tb in view.pre_token_balances:
        k = (tb.account, tb.mint)
        out[k] = out.get(k, 0) - tb.amount
    for tb in view.post_token_balances:
        k = (tb.account, tb.mint)
        out[k] = out.get(k, 0) + tb.amount
    return {k: v for k, v in out.items() if v}


def require_lamport_sum(view: TxView) -> None:
    """Refuse a record whose lamports are not conserved up to the fee: it cannot be real."""
    total = sum(view.post_balances) - sum(view.pre_balances)
    if total != -view.fee:
        raise ParseError(
            f"lamport deltas sum to {total} but the fee is {view.fee}: balances are inconsistent",
            source=view.source,
            record=view.record,
            field="meta.postBalances",
        )


def check_balances(view: TxView, decoding: Decoding) -> BalanceReport:
    """Compare the recorded balance changes with the fee and what the instructions decoded to.

    Lamports: the fee plus ``decoding.lamport_flows`` (System transfers, closed token accounts,
    wrapped-SOL token transfers) should give every account's change. Tokens: the decoded token
    moves, at token-account level, should give every token account's change, and per mint only
    mints, burns and withheld Token-2022 fees may change the total.
    """
    total = sum(view.post_balances) - sum(view.pre_balances)
    report = BalanceReport(view.signature, view.fee, total)

    expected: dict[str, int] = {view.fee_payer: -view.fee}
    for src, dst, amount in decoding.lamport_flows:
        expected[src] = expected.get(src, 0) - amount
        expected[dst] = expected.get(dst, 0) + amount
    actual = lamport_deltas(view)
    for acct in dict.fromkeys((*actual, *expected)):
        gap = actual.get(acct, 0) - expected.get(acct, 0)
        if gap:
            report.unexplained_lamports[acct] = gap

    acct_expected: dict[str, int] = {}
    mint_expected: dict[str, int] = {}
    mint_of: dict[str, str] = {}
    for tb in (*view.pre_token_balances, *view.post_token_balances):
        mint_of.setdefault(tb.account, tb.mint)
    for _ix, m, mint in decoding.token_moves:
        if m.source is not None:
            acct_expected[m.source] = acct_expected.get(m.source, 0) - m.amount
        if m.destination is not None:
            acct_expected[m.destination] = acct_expected.get(m.destination, 0) + m.amount - m.fee
        if mint is not None:
            # a mint adds supply, a burn removes it, a withheld transfer fee leaves the balances
            minted = m.amount if m.source is None else 0
            burned = m.amount if m.destination is None else 0
            mint_expected[mint] = mint_expected.get(mint, 0) + minted - burned - m.fee

    mint_actual: dict[str, int] = {}
    acct_actual: dict[str, int] = {}
    for (acct, mint), d in token_deltas(view).items():
        mint_actual[mint] = mint_actual.get(mint, 0) + d
        acct_actual[acct] = acct_actual.get(acct, 0) + d
    for mint in dict.fromkeys((*mint_actual, *mint_expected)):
        gap = mint_actual.get(mint, 0) - mint_expected.get(mint, 0)
        if gap:
            report.unexplained_mints[mint] = gap
    for acct in dict.fromkeys((*acct_actual, *acct_expected)):
        if acct not in mint_of:
            continue  # created and closed inside the transaction: no balance to compare with
        gap = acct_actual.get(acct, 0) - acct_expected.get(acct, 0)
        if gap:
            report.unexplained_token_accounts[(acct, mint_of[acct])] = gap
    return report
