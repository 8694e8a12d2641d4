"""Solana scenario: an SPL token drained from a treasury and spread over many fresh wallets.

Follows public post-mortems of SPL drains (compromised treasury / hot-wallet keys): the
attacker moves the token to a new wallet, fans it out to many fresh wallets (creating their
associated token accounts and sending each a little SOL for fees), then the wallets swap on an
AMM pool into a second stablecoin, bridge out, or pay exchange deposit wallets that the exchange
sweeps to its hot wallet; some stay dormant.

Data written: getTransaction results in ``jsonParsed`` encoding, one per line
(``sol/part-NNNNN.jsonl``), with exact ``preBalances``/``postBalances`` and token balances
(owners included) kept by a running state: every account's balances continue from its previous
transaction, lamports change only by the fee and the decoded moves, token amounts only by the
decoded transfers. Accounts that appear first hold what their first ``preBalances`` say.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fundtrace.chains.sol.programs import SYSTEM_PROGRAM, TOKEN_PROGRAM
from fundtrace.chains.sol.rpc import parse_transaction
from fundtrace.core.amounts import format_units
from fundtrace.core.model import Chain, Transaction, TransferKind
from fundtrace.scenarios.common import ChainOutput, JsonlShards, LabelRow, TraceSpec, spread
from fundtrace.scenarios.ids import ASSOCIATED_TOKEN_PROGRAM, Ids, sol_ata

START_SLOT = 250_000_000
START_TIME = 1_709_000_000
SOL = 10**9
TOKEN_RENT = 2_039_280
COLD_STORAGE = 100_000_000 * SOL  # an exchange's cold wallet, opened on first top-up
MINT_RENT = 1_461_600
PROGRAM_LAMPORTS = 1_141_440
EXCHANGES = ("Alpha Exchange", "Bravo Exchange", "Charlie Exchange", "Delta Exchange")


@dataclass
class State:
    lamports: dict[str, int] = field(default_factory=dict)
    atas: dict[str, tuple[str, str]] = field(default_factory=dict)  # ata -> (mint, owner)
    amounts: dict[str, int] = field(default_factory=dict)  # ata -> token amount
    fixed: dict[str, int] = field(default_factory=dict)  # program/mint accounts: constant lamports

    def forget(self, wallet: str, mints: tuple[str, ...]) -> None:
        self.lamports.pop(wallet, None)
        for m in mints:
            ata = sol_ata(wallet, m)
            self.atas.pop(ata, None)
            self.amounts.pop(ata, None)
            self.lamports.pop(ata, None)


class TxBuilder:
    """Collects instructions of one transaction and renders the RPC result with balances."""

    def __init__(self, st: State, fee_payer: str, decimals: dict[str, int]) -> None:
        self.st = st
        self.decimals = decimals
        self.keys: dict[str, list[bool]] = {}
        self.payer = fee_payer
        self.key(fee_payer, signer=True, writable=True)
        self.outer: list[dict] = []
        self.inner: dict[int, list[dict]] = {}
        self.lamport_moves: list[tuple[str, str, int]] = []
        self.token_moves: list[tuple[str, str, int]] = []
        self.created: list[tuple[str, str, str]] = []

    def key(self, a: str, *, signer: bool = False, writable: bool = False) -> None:
        f = self.keys.setdefault(a, [False, False])
        f[0] |= signer
        f[1] |= writable

    def _ix(self, ix: dict, inner_of: int | None) -> None:
        if inner_of is None:
            ix["stackHeight"] = 1
            self.outer.append(ix)
        else:
            ix["stackHeight"] = 2
            self.inner.setdefault(inner_of, []).append(ix)

    def transfer_sol(self, src: str, dst: str, lamports: int, inner_of: int | None = None) -> None:
        self.key(src, signer=inner_of is None, writable=True)
        self.key(dst, writable=True)
        self.key(SYSTEM_PROGRAM)
        info = {"destination": dst, "lamports": lamports, "source": src}
        self._ix(
            {
                "parsed": {"info": info, "type": "transfer"},
                "program": "system",
                "programId": SYSTEM_PROGRAM,
            },
            inner_of,
        )
        self.lamport_moves.append((src, dst, lamports))

    def create_ata(self, payer: str, wallet: str, mint: str) -> str:
        ata = sol_ata(wallet, mint)
        for a, w in ((payer, True), (ata, True), (wallet, False), (mint, False)):
            self.key(a, writable=w, signer=a == payer)
        for p in (SYSTEM_PROGRAM, TOKEN_PROGRAM, ASSOCIATED_TOKEN_PROGRAM):
            self.key(p)
        self._ix(
            {
                "parsed": {
                    "info": {
                        "account": ata,
                        "mint": mint,
                        "source": payer,
                        "systemProgram": SYSTEM_PROGRAM,
                        "tokenProgram": TOKEN_PROGRAM,
                        "wallet": wallet,
                    },
                    "type": "create",
                },
                "program": "spl-associated-token-account",
                "programId": ASSOCIATED_TOKEN_PROGRAM,
            },
            None,
        )
        k = len(self.outer) - 1
        self._ix(
            {
                "parsed": {
                    "info": {
                        "lamports": TOKEN_RENT,
                        "newAccount": ata,
                        "owner": TOKEN_PROGRAM,
                        "source": payer,
                        "space": 165,
                    },
                    "type": "createAccount",
                },
                "program": "system",
                "programId": SYSTEM_PROGRAM,
            },
            k,
        )
        self._ix(
            {
                "parsed": {
                    "info": {"account": ata, "mint": mint, "owner": wallet},
                    "type": "initializeAccount3",
                },
                "program": "spl-token",
                "programId": TOKEN_PROGRAM,
            },
            k,
        )
        self.lamport_moves.append((payer, ata, TOKEN_RENT))
        self.created.append((ata, mint, wallet))
        return ata

    def transfer_token(
        self,
        authority: str,
        src: str,
        dst: str,
        mint: str,
        amount: int,
        inner_of: int | None = None,
    ) -> None:
        self.key(authority, signer=inner_of is None)
        self.key(src, writable=True)
        self.key(dst, writable=True)
        self.key(TOKEN_PROGRAM)
        if inner_of is None:
            self.key(mint)
            dec = self.decimals[mint]
            info: dict[str, Any] = {
                "authority": authority,
                "destination": dst,
                "mint": mint,
                "source": src,
                "tokenAmount": {
                    "amount": str(amount),
                    "decimals": dec,
                    "uiAmountString": format_units(amount, dec),
                },
            }
            kind = "transferChecked"
        else:
            info = {
                "amount": str(amount),
                "authority": authority,
                "destination": dst,
                "source": src,
            }
            kind = "transfer"
        self._ix(
            {
                "parsed": {"info": info, "type": kind},
                "program": "spl-token",
                "programId": TOKEN_PROGRAM,
            },
            inner_of,
        )
        self.token_moves.append((src, dst, amount))

    def program_call(self, program: str, accounts: list[str], ids: Ids) -> int:
        self.key(program)
        for a in accounts:
            self.key(a, writable=True)
        self._ix({"accounts": accounts, "data": ids.sol_address()[:20], "programId": program}, None)
        return len(self.outer) - 1

    def render(
        self, sig: str, slot: int, block_time: int, index: int, fee: int, blockhash: str
    ) -> dict:
        st = self.st
        order = sorted(self.keys.items(), key=lambda kv: (not kv[1][0], not kv[1][1]))
        keys = [k for k, _ in order]
        for k in keys:
            if k not in st.lamports:
                if k in st.fixed:
                    continue
                st.lamports[k] = 0
        pre = [st.fixed[k] if k in st.fixed else st.lamports[k] for k in keys]
        pre_tok = self._token_balances(keys)
        payer = keys[0]
        st.lamports[payer] -= fee
        for a, mint, owner in self.created:
            st.atas[a] = (mint, owner)
            st.amounts[a] = 0
        for s, d, v in self.lamport_moves:
            st.lamports[s] -= v
            st.lamports[d] += v
        for s, d, v in self.token_moves:
            st.amounts[s] -= v
            st.amounts[d] += v
        for a in keys:
            if a not in st.fixed and st.lamports[a] < 0:
                raise AssertionError(f"generator bug: {a} overdrawn in {sig}")
        for s, _d, _v in self.token_moves:
            if st.amounts[s] < 0:
                raise AssertionError(f"generator bug: token account {s} overdrawn in {sig}")
        post = [st.fixed[k] if k in st.fixed else st.lamports[k] for k in keys]
        post_tok = self._token_balances(keys)
        inner = [{"index": i, "instructions": ixs} for i, ixs in sorted(self.inner.items())]
        return {
            "blockTime": block_time,
            "meta": {
                "computeUnitsConsumed": 450 + 4_000 * len(self.outer),
                "err": None,
                "fee": fee,
                "innerInstructions": inner,
                "logMessages": [],
                "postBalances": post,
                "postTokenBalances": post_tok,
                "preBalances": pre,
                "preTokenBalances": pre_tok,
                "rewards": [],
                "status": {"Ok": None},
            },
            "slot": slot,
            "transaction": {
                "message": {
                    "accountKeys": [
                        {"pubkey": k, "signer": f[0], "source": "transaction", "writable": f[1]}
                        for k, f in order
                    ],
                    "instructions": self.outer,
                    "recentBlockhash": blockhash,
                },
                "signatures": [sig],
            },
            "transactionIndex": index,
            "version": "legacy",
        }

    def _token_balances(self, keys: list[str]) -> list[dict]:
        out = []
        for i, k in enumerate(keys):
            if k in self.st.atas:
                mint, owner = self.st.atas[k]
                dec = self.decimals[mint]
                amt = self.st.amounts[k]
                out.append(
                    {
                        "accountIndex": i,
                        "mint": mint,
                        "owner": owner,
                        "programId": TOKEN_PROGRAM,
                        "uiTokenAmount": {
                            "amount": str(amt),
                            "decimals": dec,
                            "uiAmountString": format_units(amt, dec),
                        },
                    }
                )
        return out


@dataclass
class Op:
    """A transaction to emit: its builder function runs at assembly, on the state of then."""

    slot: int
    build: Any  # Callable[[TxBuilder], None]
    payer: str
    signers: int = 1
    tag: str = ""


@dataclass
class World:
    ids: Ids
    rng: random.Random
    st: State
    mint_a: str
    mint_b: str
    decimals: dict[str, int]
    hot: dict[str, str]
    amm: str
    amm_auth: str
    bridge: str
    bridge_auth: str
    labels: list[LabelRow] = field(default_factory=list)


def build_world(ids: Ids, rng: random.Random) -> World:
    st = State()
    mint_a, mint_b = ids.sol_address(), ids.sol_address()
    amm, amm_auth, bridge, bridge_auth = (ids.sol_address() for _ in range(4))
    for p in (SYSTEM_PROGRAM, TOKEN_PROGRAM, ASSOCIATED_TOKEN_PROGRAM, amm, bridge):
        st.fixed[p] = PROGRAM_LAMPORTS
    for m in (mint_a, mint_b):
        st.fixed[m] = MINT_RENT
    w = World(
        ids,
        rng,
        st,
        mint_a,
        mint_b,
        {mint_a: 6, mint_b: 6},
        {e: ids.sol_address() for e in EXCHANGES},
        amm,
        amm_auth,
        bridge,
        bridge_auth,
    )
    for e, a in w.hot.items():
        w.labels.append(LabelRow(Chain.SOL, a, e, "exchange"))
        st.lamports[a] = 500_000 * SOL
        for m in (mint_a, mint_b):
            _open_ata(st, a, m, 200_000_000 * 10**6)
    w.labels.append(LabelRow(Chain.SOL, amm_auth, "Kilo Swap: A-B pool", "defi"))
    w.labels.append(LabelRow(Chain.SOL, bridge_auth, "Foxtrot Bridge", "bridge"))
    st.lamports[amm_auth] = 0
    st.lamports[bridge_auth] = 0
    for m in (mint_a, mint_b):
        _open_ata(st, amm_auth, m, 500_000_000 * 10**6)
    _open_ata(st, bridge_auth, mint_a, 10_000_000 * 10**6)
    return w


def _open_ata(st: State, wallet: str, mint: str, amount: int) -> str:
    ata = sol_ata(wallet, mint)
    st.atas[ata] = (mint, wallet)
    st.amounts[ata] = amount
    st.lamports[ata] = TOKEN_RENT
    return ata


def _send_token(w: World, b: TxBuilder, owner: str, to: str, mint: str, amount: int) -> None:
    dst = sol_ata(to, mint)
    if dst not in w.st.atas and all(c[0] != dst for c in b.created):
        b.create_ata(b.payer, to, mint)
    b.transfer_token(owner, sol_ata(owner, mint), dst, mint, amount)


def _swap(w: World, b: TxBuilder, owner: str, amount: int) -> None:
    dst = sol_ata(owner, w.mint_b)
    if dst not in w.st.atas:
        b.create_ata(owner, owner, w.mint_b)
    va, vb = sol_ata(w.amm_auth, w.mint_a), sol_ata(w.amm_auth, w.mint_b)
    k = b.program_call(w.amm, [w.amm_auth, va, vb, sol_ata(owner, w.mint_a), dst], w.ids)
    b.transfer_token(owner, sol_ata(owner, w.mint_a), va, w.mint_a, amount, inner_of=k)
    b.transfer_token(w.amm_auth, vb, dst, w.mint_b, amount * 9975 // 10000, inner_of=k)


def build_incident(w: World) -> tuple[list[Op], dict, int]:
    ids, rng, st = w.ids, w.rng, w.st
    ops: list[Op] = []
    victim = ids.sol_address()
    st.lamports[victim] = 40 * SOL
    _open_ata(st, victim, w.mint_a, 15_000_000 * 10**6)
    w.labels.append(LabelRow(Chain.SOL, victim, "Victim Treasury", "victim"))
    thief: list[str] = []

    def fresh() -> str:
        a = ids.sol_address()
        thief.append(a)
        return a

    x = fresh()
    slot = 5
    hot0 = w.hot[EXCHANGES[1]]
    ops.append(Op(slot, lambda b: b.transfer_sol(hot0, x, 12 * SOL), hot0))
    slot += rng.randint(20, 60)
    drains = [6_200_000, 4_800_000]
    for part in drains:
        amount = part * 10**6 + rng.randrange(10**6)
        ops.append(
            Op(
                slot,
                lambda b, a=amount: _send_token(w, b, victim, x, w.mint_a, a),
                victim,
                tag="source_a",
            )
        )
        slot += rng.randint(2, 10)
    total = sum(d * 10**6 for d in drains)  # lower bound; the exact split happens at emission
    wallets = [fresh() for _ in range(20)]
    shares = spread(total, len(wallets), rng)
    for g in range(0, len(wallets), 4):
        group = list(zip(wallets[g : g + 4], shares[g : g + 4], strict=True))

        def fan(b: TxBuilder, group=group) -> None:
            for to, amt in group:
                b.transfer_sol(x, to, SOL // 20)
                _send_token(w, b, x, to, w.mint_a, amt)

        ops.append(Op(slot, fan, x))
        slot += rng.randint(1, 4)
    roles = ["swap"] * 6 + ["bridge"] * 4 + ["exchange"] * 6 + ["hold"] * 4
    rng.shuffle(roles)
    deposits: list[dict] = []
    dormant: list[str] = []
    for f, role, amt in zip(wallets, roles, shares, strict=True):
        at = slot + rng.randint(5, 200)
        if role == "hold":
            dormant.append(f)
            continue
        if role == "bridge":

            def br(b: TxBuilder, f=f, amt=amt) -> None:
                custody = sol_ata(w.bridge_auth, w.mint_a)
                k = b.program_call(w.bridge, [w.bridge_auth, custody], ids)
                b.transfer_token(f, sol_ata(f, w.mint_a), custody, w.mint_a, amt, inner_of=k)

            ops.append(Op(at, br, f))
            continue
        mint = w.mint_a
        if role == "swap":
            ops.append(Op(at, lambda b, f=f, amt=amt: _swap(w, b, f, amt), f, tag="source_b"))
            at += rng.randint(2, 30)
            mint = w.mint_b
            amt = amt * 9975 // 10000
        ex = rng.choice(EXCHANGES)
        d = ids.sol_address()
        labeled = len(deposits) % 2 == 0
        deposits.append({"address": d, "entity": ex, "labeled": labeled, "hot_wallet": w.hot[ex]})
        if labeled:
            w.labels.append(LabelRow(Chain.SOL, d, ex, "exchange", 80))
        ops.append(Op(at, lambda b, f=f, d=d, m=mint, a=amt: _send_token(w, b, f, d, m, a), f))
        at += rng.randint(10, 100)
        hot = w.hot[ex]

        def sweep(b: TxBuilder, d=d, m=mint, a=amt, hot=hot) -> None:
            b.key(d, signer=True)
            b.transfer_token(d, sol_ata(d, m), sol_ata(hot, m), m, a)

        ops.append(Op(at, sweep, hot, signers=2))
    ops.sort(key=lambda o: o.slot)
    facts = {
        "victim": {"address": victim, "entity": "Victim Treasury"},
        "thief_addresses": sorted(thief),
        "deposit_addresses": deposits,
        "dormant_addresses": dormant,
        "mints": {
            w.mint_a: {"symbol": "USDA", "decimals": 6},
            w.mint_b: {"symbol": "USDB", "decimals": 6},
        },
        "amm_program": w.amm,
        "bridge_program": w.bridge,
    }
    return ops, facts, max(o.slot for o in ops) + 5


class Background:
    CAP = 30_000

    def __init__(self, w: World) -> None:
        self.w = w
        self.users: list[str] = []
        self.cold: dict[str, str] = {}

    def _new(self) -> str:
        a = self.w.ids.sol_address()
        self.users.append(a)
        return a

    def _trim(self) -> None:
        """Retire random users beyond the cap (between transactions, never inside one)."""
        while len(self.users) > self.CAP:
            i = self.w.rng.randrange(len(self.users))
            gone = self.users[i]
            self.users[i] = self.users[-1]
            self.users.pop()
            self.w.st.forget(gone, (self.w.mint_a, self.w.mint_b))

    def _refill(self, exchange: str, hot: str) -> tuple[str, Any]:
        """The exchange tops its hot wallet up from cold storage, as exchanges do daily.

        Withdrawals outpace deposits over a long history; without top-ups the hot wallets run
        dry and background traffic stalls (10M-transfer scenarios stopped near 1.5M). The cold
        wallet appears on first use, so smaller scenarios are unchanged.
        """
        cold = self.cold.get(exchange)
        if cold is None:
            cold = self.cold[exchange] = self.w.ids.sol_address()
            self.w.st.lamports[cold] = COLD_STORAGE
            self.w.labels.append(LabelRow(Chain.SOL, cold, exchange, "exchange"))
        return cold, lambda b: b.transfer_sol(cold, hot, 200_000 * SOL)

    def op(self) -> tuple[str, Any] | None:
        self._trim()
        w, rng, st = self.w, self.w.rng, self.w.st
        r = rng.randrange(100)
        if r < 15 or len(self.users) < 20:
            exchange = rng.choice(EXCHANGES)
            hot = w.hot[exchange]
            to = self._new() if rng.random() < 0.7 or not self.users else rng.choice(self.users)
            lam = rng.randint(1, 5000) * SOL // 100
            if st.lamports[hot] < lam + 1_000 * SOL:
                return self._refill(exchange, hot)
            if rng.random() < 0.5:
                return hot, lambda b: b.transfer_sol(hot, to, lam)
            amt = rng.randint(1, 20_000) * 10**6
            if st.amounts[sol_ata(hot, w.mint_a)] < amt + 50_000_000 * 10**6:
                return None
            return hot, lambda b: (
                b.transfer_sol(hot, to, SOL // 50),
                _send_token(w, b, hot, to, w.mint_a, amt),
            )
        u = rng.choice(self.users)
        lam = st.lamports.get(u, 0)
        if lam < TOKEN_RENT + SOL // 100:
            return None
        to = self._new() if rng.random() < 0.4 else rng.choice(self.users)
        if rng.random() < 0.1:
            to = w.hot[rng.choice(EXCHANGES)]
        if to == u:
            return None
        ata = sol_ata(u, w.mint_a)
        tok = st.amounts.get(ata, 0)
        if r < 55 and tok > 0:
            amt = tok * rng.randint(5, 100) // 100
            if amt:
                return u, lambda b: _send_token(w, b, u, to, w.mint_a, amt)
        spare = lam - TOKEN_RENT - SOL // 200
        amt = spare * rng.randint(5, 90) // 100
        if amt <= 0:
            return None
        return u, lambda b: b.transfer_sol(u, to, amt)


def generate_sol(seed: str, out_dir: Path, transfers: int) -> ChainOutput:
    rng = random.Random(f"{seed}:sol")
    ids = Ids(rng)
    w = build_world(ids, rng)
    ops, facts, span = build_incident(w)
    per_slot = 60
    bg_target = max(0, transfers - 150)
    n_slots = max(span, -(-bg_target // per_slot))
    bg = Background(w)
    by_slot: dict[int, list[Op]] = {}
    for o in ops:
        by_slot.setdefault(o.slot, []).append(o)
    shards = JsonlShards(out_dir / "sol", "part")
    counts = {"blocks": 0, "transactions": 0, "transfers": 0}
    incident: list[Transaction] = []
    sources: dict[str, list[str]] = {"source_a": [], "source_b": []}
    ts = START_TIME
    emitted = 0
    for s in range(n_slots):
        shards.rotate_if_full()
        slot = START_SLOT + s
        if s % 3 == 0:
            ts += 1
        blockhash = ids.sol_blockhash()
        want = bg_target * (s + 1) // n_slots
        misses = 0
        i = 0

        def emit(
            op: Op | None,
            payer: str,
            build: Any,
            signers: int,
            i: int,
            slot: int = slot,
            ts: int = ts,
            blockhash: str = blockhash,
        ) -> int:
            b = TxBuilder(w.st, payer, w.decimals)
            build(b)
            fee = 5_000 * signers + rng.randrange(0, 40_000)
            result = b.render(ids.sol_signature(), slot, ts, i, fee, blockhash)
            shards.write(result)
            n = len(b.lamport_moves) + len(b.token_moves)
            counts["transfers"] += n
            counts["transactions"] += 1
            if op is not None:
                tx = parse_transaction(result).transactions[0]
                incident.append(tx)
                if op.tag:
                    mint = w.mint_a if op.tag == "source_a" else w.mint_b
                    victim = facts["victim"]["address"]
                    for tr in tx.transfers:
                        if (
                            tr.kind is TransferKind.TOKEN
                            and tr.asset == mint
                            and (op.tag == "source_b" or tr.from_address == victim)
                        ):
                            sources[op.tag].append(f"{tx.hash}:{tr.index}")
            return n

        for op in by_slot.get(s, []):
            emit(op, op.payer, op.build, op.signers, i)
            i += 1
        while emitted < want and misses < 20:
            got = bg.op()
            if got is None:
                misses += 1
                continue
            emitted += emit(None, got[0], got[1], 1, i)
            i += 1
        counts["blocks"] += 1
    shards.close()
    out = ChainOutput(
        Chain.SOL,
        "rpc",
        [str(p.relative_to(out_dir)) for p in shards.paths],
        labels=w.labels,
        facts=facts,
        incident=incident,
        counts=counts,
    )
    out.facts["first_slot"] = START_SLOT
    out.facts["last_slot"] = START_SLOT + n_slots - 1
    out.traces.append(TraceSpec("stolen USDA (SPL)", w.mint_a, "USDA", 6, sources["source_a"]))
    out.traces.append(
        TraceSpec("USDB from swapping stolen USDA", w.mint_b, "USDB", 6, sources["source_b"])
    )
    return out
