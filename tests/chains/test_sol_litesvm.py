"""Real transactions executed by the Solana runtime in-process (solders' LiteSVM): the parser's
reading of each executed transaction must account exactly for the balances the runtime left.

The runtime's results are turned into getTransaction results the way an RPC node builds them
(account keys, compiled instructions, inner instructions, fee, pre/post lamports and token
balances), in ``json`` and ``base64`` encoding, and parsed like any fixture.
"""

from __future__ import annotations

import base64
import struct

import pytest
import solders.system_program as sp
from solders.instruction import AccountMeta
from solders.instruction import Instruction as SolInstruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.token.associated import get_associated_token_address
from solders.token.state import TokenAccount
from solders.transaction import Transaction as SolTransaction
from solders.transaction_metadata import FailedTransactionMetadata

from fundtrace.chains.sol.balances import check_balances
from fundtrace.chains.sol.instructions import b58encode
from fundtrace.chains.sol.message import read_transaction
from fundtrace.chains.sol.rpc import parse_transaction
from fundtrace.chains.sol.transfers import decode_transfers
from fundtrace.core.model import NATIVE, TransferKind

TOKEN = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
ATA = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
SOL = 1_000_000_000


class Chain:
    """A LiteSVM plus the bookkeeping an RPC node does around each transaction."""

    def __init__(self) -> None:
        self.svm = LiteSVM()
        self.payer = Keypair()
        self.svm.airdrop(self.payer.pubkey(), 100 * SOL)
        self.decimals: dict[str, int] = {}

    def token_balances(self, keys: list[Pubkey]) -> list[dict]:
        out = []
        for i, k in enumerate(keys):
            acc = self.svm.get_account(k)
            if acc is None or acc.owner != TOKEN or len(acc.data) != 165:
                continue
            ta = TokenAccount.from_bytes(bytes(acc.data))
            mint = str(ta.mint)
            out.append(
                {
                    "accountIndex": i,
                    "mint": mint,
                    "owner": str(ta.owner),
                    "programId": str(TOKEN),
                    "uiTokenAmount": {"amount": str(ta.amount), "decimals": self.decimals[mint]},
                }
            )
        return out

    def run(self, ixs: list[SolInstruction], signers: list[Keypair]) -> tuple[dict, dict]:
        """Execute; return the json-encoded and base64-encoded getTransaction results."""
        msg = Message.new_with_blockhash(ixs, self.payer.pubkey(), self.svm.latest_blockhash())
        tx = SolTransaction([self.payer, *signers], msg, self.svm.latest_blockhash())
        keys = list(msg.account_keys)
        pre = [self.svm.get_balance(k) or 0 for k in keys]
        pre_tok = self.token_balances(keys)
        meta = self.svm.send_transaction(tx)
        failed = isinstance(meta, FailedTransactionMetadata)
        err = {"InstructionError": str(meta.err())} if failed else None
        m = meta.meta() if failed else meta
        post = [self.svm.get_balance(k) or 0 for k in keys]
        inner = [
            {
                "index": i,
                "instructions": [
                    {
                        "programIdIndex": ii.instruction().program_id_index,
                        "accounts": list(ii.instruction().accounts),
                        "data": b58encode(bytes(ii.instruction().data)),
                        "stackHeight": ii.stack_height(),
                    }
                    for ii in group
                ],
            }
            for i, group in enumerate(m.inner_instructions())
            if group
        ]
        h = msg.header
        result = {
            "slot": 7,
            "blockTime": None,
            "transaction": {
                "signatures": [str(s) for s in tx.signatures],
                "message": {
                    "accountKeys": [str(k) for k in keys],
                    "header": {
                        "numRequiredSignatures": h.num_required_signatures,
                        "numReadonlySignedAccounts": h.num_readonly_signed_accounts,
                        "numReadonlyUnsignedAccounts": h.num_readonly_unsigned_accounts,
                    },
                    "instructions": [
                        {
                            "programIdIndex": ci.program_id_index,
                            "accounts": list(ci.accounts),
                            "data": b58encode(bytes(ci.data)),
                        }
                        for ci in msg.instructions
                    ],
                    "recentBlockhash": str(msg.recent_blockhash),
                },
            },
            "meta": {
                "err": err,
                "fee": m.fee(),
                "preBalances": pre,
                "postBalances": post,
                "innerInstructions": [] if failed else inner,
                "preTokenBalances": pre_tok,
                "postTokenBalances": self.token_balances(keys),
            },
        }
        wire = dict(result, transaction=[base64.b64encode(bytes(tx)).decode(), "base64"])
        return result, wire


def explained(result: dict) -> bool:
    view = read_transaction(result)
    return check_balances(view, decode_transfers(view)).explained


def test_executed_sol_transfers_match_balances():
    chain = Chain()
    payer = chain.payer.pubkey()
    a, b = Keypair(), Keypair()
    new = Keypair()
    ixs = [
        sp.transfer(sp.TransferParams(from_pubkey=payer, to_pubkey=a.pubkey(), lamports=3 * SOL)),
        sp.transfer(sp.TransferParams(from_pubkey=payer, to_pubkey=b.pubkey(), lamports=1_234_567)),
        sp.create_account(
            sp.CreateAccountParams(
                from_pubkey=payer, to_pubkey=new.pubkey(), lamports=2_000_000, space=0, owner=payer
            )
        ),
        sp.transfer(sp.TransferParams(from_pubkey=a.pubkey(), to_pubkey=b.pubkey(), lamports=777)),
    ]
    result, wire = chain.run(ixs, [a, new])
    assert result["meta"]["err"] is None
    tx = parse_transaction(result).transactions[0]
    assert [(t.index, t.kind, t.from_address, t.to_address, t.amount) for t in tx.transfers] == [
        (0, TransferKind.NATIVE, str(payer), str(a.pubkey()), 3 * SOL),
        (1, TransferKind.NATIVE, str(payer), str(b.pubkey()), 1_234_567),
        (2, TransferKind.NATIVE, str(payer), str(new.pubkey()), 2_000_000),
        (3, TransferKind.NATIVE, str(a.pubkey()), str(b.pubkey()), 777),
    ]
    assert tx.fee == result["meta"]["fee"] == 3 * 5000  # three signatures
    assert explained(result)
    # the recorded balances are the runtime's own
    assert chain.svm.get_balance(b.pubkey()) == 1_234_567 + 777
    assert parse_transaction(wire).transactions[0] == tx


def test_executed_transfer_with_seed_and_nonce_withdraw():
    chain = Chain()
    payer = chain.payer.pubkey()
    base = Keypair()
    derived = Pubkey.create_with_seed(base.pubkey(), "vault", sp.ID)
    dest = Keypair().pubkey()
    setup, _ = chain.run(
        [
            sp.create_account_with_seed(
                sp.CreateAccountWithSeedParams(
                    from_pubkey=payer,
                    to_pubkey=derived,
                    base=base.pubkey(),
                    seed="vault",
                    lamports=5 * SOL,
                    space=0,
                    owner=sp.ID,
                )
            )
        ],
        [base],
    )
    (t,) = parse_transaction(setup).transactions[0].transfers
    assert (t.from_address, t.to_address, t.amount) == (str(payer), str(derived), 5 * SOL)
    assert explained(setup)
    result, wire = chain.run(
        [
            sp.transfer_with_seed(
                sp.TransferWithSeedParams(
                    from_pubkey=derived,
                    from_base=base.pubkey(),
                    from_seed="vault",
                    from_owner=sp.ID,
                    to_pubkey=dest,
                    lamports=SOL + 1,
                )
            )
        ],
        [base],
    )
    (t,) = parse_transaction(wire).transactions[0].transfers
    assert (t.from_address, t.to_address, t.amount) == (str(derived), str(dest), SOL + 1)
    assert explained(result) and explained(wire)

    nonce = Keypair()
    created, _ = chain.run(sp.create_nonce_account(payer, nonce.pubkey(), payer, 10 * SOL), [nonce])
    assert created["meta"]["err"] is None and explained(created)
    result, _ = chain.run(
        [
            sp.withdraw_nonce_account(
                sp.WithdrawNonceAccountParams(
                    nonce_pubkey=nonce.pubkey(),
                    authorized_pubkey=payer,
                    to_pubkey=dest,
                    lamports=SOL,
                )
            )
        ],
        [],
    )
    (t,) = parse_transaction(result).transactions[0].transfers
    assert (t.from_address, t.to_address, t.amount) == (str(nonce.pubkey()), str(dest), SOL)
    assert explained(result)


def test_failed_transfer_moves_only_the_fee():
    chain = Chain()
    poor = Keypair()
    chain.svm.airdrop(poor.pubkey(), SOL)
    ix = sp.transfer(
        sp.TransferParams(from_pubkey=poor.pubkey(), to_pubkey=Keypair().pubkey(), lamports=2 * SOL)
    )
    result, wire = chain.run([ix], [poor])
    assert result["meta"]["err"] is not None
    for r in (result, wire):
        tx = parse_transaction(r).transactions[0]
        assert (tx.success, tx.transfers, tx.fee) == (False, [], 10_000)
        assert explained(r)


# --- SPL Token ---------------------------------------------------------------------------------


def _token_ix(data: bytes, metas: list[tuple[Pubkey, bool, bool]]) -> SolInstruction:
    return SolInstruction(TOKEN, data, [AccountMeta(k, s, w) for k, s, w in metas])


def _create_ata(payer: Pubkey, owner: Pubkey, mint: Pubkey) -> SolInstruction:
    ata = get_associated_token_address(owner, mint)
    metas = [
        AccountMeta(payer, True, True),
        AccountMeta(ata, False, True),
        AccountMeta(owner, False, False),
        AccountMeta(mint, False, False),
        AccountMeta(sp.ID, False, False),
        AccountMeta(TOKEN, False, False),
    ]
    return SolInstruction(ATA, b"", metas)


@pytest.fixture
def token_setup():
    chain = Chain()
    payer = chain.payer.pubkey()
    mint = Keypair()
    rent = chain.svm.minimum_balance_for_rent_exemption(82)
    init_mint = _token_ix(
        bytes([20, 6]) + bytes(payer) + b"\0", [(mint.pubkey(), False, True)]
    )  # InitializeMint2 { decimals 6, authority payer, no freeze authority }
    create = sp.create_account(
        sp.CreateAccountParams(
            from_pubkey=payer, to_pubkey=mint.pubkey(), lamports=rent, space=82, owner=TOKEN
        )
    )
    chain.decimals[str(mint.pubkey())] = 6
    result, _ = chain.run([create, init_mint], [mint])
    assert result["meta"]["err"] is None
    return chain, mint.pubkey()


def test_executed_spl_mint_transfer_burn(token_setup):
    chain, mint = token_setup
    payer = chain.payer.pubkey()
    alice, bob = Keypair(), Keypair()
    a_ata = get_associated_token_address(alice.pubkey(), mint)
    b_ata = get_associated_token_address(bob.pubkey(), mint)
    mint_to = _token_ix(
        bytes([14]) + struct.pack("<QB", 1_000_000, 6),
        [(mint, False, True), (a_ata, False, True), (payer, True, False)],
    )
    result, wire = chain.run(
        [_create_ata(payer, alice.pubkey(), mint), _create_ata(payer, bob.pubkey(), mint), mint_to],
        [],
    )
    assert result["meta"]["err"] is None
    batch = parse_transaction(result)
    tx = batch.transactions[0]
    token = [
        (t.kind, t.from_address, t.to_address, t.amount)
        for t in tx.transfers
        if t.asset == str(mint)
    ]
    assert token == [(TransferKind.TOKEN, None, str(alice.pubkey()), 1_000_000)]
    rent = [t for t in tx.transfers if t.asset == NATIVE]
    assert {t.to_address for t in rent} == {str(a_ata), str(b_ata)}
    assert all(t.kind is TransferKind.INTERNAL and t.from_address == str(payer) for t in rent)
    assert explained(result) and explained(wire)
    assert parse_transaction(wire).transactions[0] == tx
    assert any(a.asset_id == str(mint) and a.decimals == 6 for a in batch.assets)

    transfer_checked = _token_ix(
        bytes([12]) + struct.pack("<QB", 400_000, 6),
        [
            (a_ata, False, True),
            (mint, False, False),
            (b_ata, False, True),
            (alice.pubkey(), True, False),
        ],
    )
    transfer = _token_ix(
        bytes([3]) + struct.pack("<Q", 100_000),
        [(a_ata, False, True), (b_ata, False, True), (alice.pubkey(), True, False)],
    )
    burn = _token_ix(
        bytes([15]) + struct.pack("<QB", 50_000, 6),
        [(b_ata, False, True), (mint, False, True), (bob.pubkey(), True, False)],
    )
    result, wire = chain.run([transfer_checked, transfer, burn], [alice, bob])
    assert result["meta"]["err"] is None
    tx = parse_transaction(result).transactions[0]
    A, B = str(alice.pubkey()), str(bob.pubkey())
    assert [
        (t.index, t.kind, t.asset, t.from_address, t.to_address, t.amount) for t in tx.transfers
    ] == [
        (0, TransferKind.TOKEN, str(mint), A, B, 400_000),
        (1, TransferKind.TOKEN, str(mint), A, B, 100_000),
        (2, TransferKind.TOKEN, str(mint), B, None, 50_000),
    ]
    assert explained(result) and explained(wire)
    amounts = {
        k: TokenAccount.from_bytes(bytes(chain.svm.get_account(k).data)).amount
        for k in (a_ata, b_ata)
    }
    assert amounts == {a_ata: 500_000, b_ata: 450_000}


def test_owner_from_initialize_account_in_the_same_tx(token_setup):
    """Without token balances (an account created and closed in one tx has none), the owner of
    a token account comes from its initializeAccount3, executed inside the ATA program (CPI)."""
    chain, mint = token_setup
    payer = chain.payer.pubkey()
    carol = Keypair()
    c_ata = get_associated_token_address(carol.pubkey(), mint)
    mint_to = _token_ix(
        bytes([7]) + struct.pack("<Q", 42),
        [(mint, False, True), (c_ata, False, True), (payer, True, False)],
    )
    result, _ = chain.run([_create_ata(payer, carol.pubkey(), mint), mint_to], [])
    result["meta"]["preTokenBalances"] = result["meta"]["postTokenBalances"] = []
    batch = parse_transaction(result)
    (t,) = [t for t in batch.transactions[0].transfers if t.kind == TransferKind.TOKEN]
    assert (t.asset, t.from_address, t.to_address, t.amount) == (
        str(mint),
        None,
        str(carol.pubkey()),
        42,
    )
    assert not any("unknown" in w for w in batch.warnings)

    # a plain transfer with neither balances nor initialization: sender from the authority,
    # receiver stays the token account, and a warning says so
    dave = Keypair()
    d_ata = get_associated_token_address(dave.pubkey(), mint)
    chain.run([_create_ata(payer, dave.pubkey(), mint)], [])
    pay = _token_ix(
        bytes([3]) + struct.pack("<Q", 40),
        [(c_ata, False, True), (d_ata, False, True), (carol.pubkey(), True, False)],
    )
    result, _ = chain.run([pay], [carol])
    for side in ("preTokenBalances", "postTokenBalances"):
        result["meta"][side] = [e for e in result["meta"][side] if e["owner"] != str(dave.pubkey())]
    batch = parse_transaction(result)
    (t,) = batch.transactions[0].transfers
    assert (t.from_address, t.to_address, t.amount) == (str(carol.pubkey()), str(d_ata), 40)
    assert any(str(d_ata) in w and "unknown" in w for w in batch.warnings)
