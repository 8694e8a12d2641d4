"""Ethereum scenario: a USDT-like ERC-20 drained from an exchange hot wallet and laundered.

Follows the pattern of public post-mortems of ERC-20 hot-wallet drains (e.g. the 2022-2023
exchange incidents): the attacker is funded with gas from a mixer withdrawal, drains the token
in a few transfers, fans it out through a Disperse-style contract (token ``transferFrom`` logs
and internal ether calls), some of the fan-out wallets receive clean withdrawals from an
exchange (dilution), then they swap to ETH on an AMM pool and deposit fixed denominations into
a Tornado-style mixer, bridge, or pay exchange deposit addresses that the exchange sweeps to its
hot wallet (the deposit-address pattern). A poisoner sends zero-value look-alike transfers.

Data written: ethereum-etl CSV exports, one directory per shard (``eth/part-NNNNN/`` with
blocks, transactions, receipts, logs, traces and tokens), every transaction with its receipt,
logs and full call trace. Ether cannot be minted by a transaction, so the few root holders
(exchange hot wallets, whales, the AMM pool, the victim) start with declared opening balances
(``opening_balances`` in the ground truth, like a genesis allocation); every other balance is
received in the data and never goes negative. Tokens are minted in the data.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak

from fundtrace.core.model import NATIVE, Chain, Transaction, Transfer, TransferKind
from fundtrace.scenarios import common
from fundtrace.scenarios.common import ChainOutput, LabelRow, TraceSpec, spread
from fundtrace.scenarios.ids import Ids

START_BLOCK = 19_000_000
START_TIME = 1_705_000_000
ZERO = "0x" + "0" * 40
ETH = 10**18
GWEI = 10**9
USDT = 10**6
PRICE_USDT_PER_ETH = 3000

TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
APPROVAL_TOPIC = "0x" + keccak(text="Approval(address,address,uint256)").hex()
SEL_TRANSFER = "0xa9059cbb"
SEL_APPROVE = "0x095ea7b3"
SEL_TRANSFER_FROM = "0x23b872dd"

EXCHANGES = ("Alpha Exchange", "Bravo Exchange", "Charlie Exchange", "Delta Exchange")
OPENING_HOT = 200_000 * ETH
COLD_STORAGE = 10_000_000 * ETH
RESERVE = 2_000 * ETH  # shared holders keep this much for the incident's own moves


def _word(x: int | str) -> str:
    if isinstance(x, str):
        return x[2:].rjust(64, "0")
    return f"{x:064x}"


@dataclass(slots=True)
class Log:
    address: str
    topics: list[str]
    data: str

    @staticmethod
    def transfer(token: str, frm: str | None, to: str | None, amount: int) -> Log:
        return Log(
            token,
            [TRANSFER_TOPIC, "0x" + _word(frm or ZERO), "0x" + _word(to or ZERO)],
            "0x" + _word(amount),
        )


@dataclass(slots=True)
class Frame:
    path: tuple[int, ...]
    frm: str
    to: str
    value: int
    input: str = "0x"


@dataclass(slots=True)
class EthTx:
    frm: str
    to: str
    value: int
    gas_used: int
    input: str = "0x"
    frames: list[Frame] = field(default_factory=list)  # below the top-level call
    logs: list[Log] = field(default_factory=list)
    hash: str = ""
    price: int = 0  # effective gas price, set at block assembly
    prio: int = 0

    @property
    def fee(self) -> int:
        return self.gas_used * self.price

    def native_moves(self) -> list[tuple[str, str, int]]:
        out = [(self.frm, self.to, self.value)] if self.value else []
        out += [(f.frm, f.to, f.value) for f in self.frames if f.value]
        return out

    def token_moves(self, token: str) -> list[tuple[str | None, str | None, int]]:
        out = []
        for lg in self.logs:
            if lg.address == token and lg.topics[0] == TRANSFER_TOPIC:
                frm = "0x" + lg.topics[1][-40:]
                to = "0x" + lg.topics[2][-40:]
                out.append(
                    (None if frm == ZERO else frm, None if to == ZERO else to, int(lg.data, 16))
                )
        return out


class Ledger:
    """Balances (ether and one token) of the addresses still in play; opening ones declared."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.eth: dict[str, int] = {}
        self.tok: dict[str, int] = {}
        self.opening: dict[str, int] = {}

    def open(self, address: str, wei: int) -> None:
        self.opening[address] = self.opening.get(address, 0) + wei
        self.eth[address] = self.eth.get(address, 0) + wei

    def apply(self, tx: EthTx, gas_price: int) -> None:
        fee = tx.gas_used * gas_price
        self.eth[tx.frm] = self.eth.get(tx.frm, 0) - fee
        moves: list[tuple[dict[str, int], str | None, str | None, int]] = [
            (self.eth, f, t, v) for f, t, v in tx.native_moves()
        ]
        moves += [(self.tok, f, t, v) for f, t, v in tx.token_moves(self.token)]
        for book, f, t, v in moves:
            if f is not None:
                book[f] = book.get(f, 0) - v
            if t is not None:
                book[t] = book.get(t, 0) + v
        for book, f, _t, _v in [(self.eth, tx.frm, None, 0), *moves]:
            if f is not None and book.get(f, 0) < 0:
                raise AssertionError(f"generator bug: {f} overdrawn by {tx.hash or tx}")

    def forget(self, address: str) -> None:
        self.eth.pop(address, None)
        self.tok.pop(address, None)


# --------------------------------------------------------------------------------------------


@dataclass
class World:
    ids: Ids
    rng: random.Random
    token: str
    base_fee: list[int]
    ledger: Ledger
    labels: list[LabelRow] = field(default_factory=list)
    hot: dict[str, str] = field(default_factory=dict)
    pool: str = ""
    router: str = ""
    mixers: dict[int, str] = field(default_factory=dict)  # denomination (wei) -> contract
    bridge: str = ""
    disperse: str = ""
    issuer: str = ""

    def price(self, block: int) -> tuple[int, int]:
        prio = GWEI // 10 * self.rng.randint(1, 20)
        return self.base_fee[block] + prio, prio


def token_transfer(w: World, frm: str, to: str, amount: int) -> EthTx:
    return EthTx(
        frm,
        w.token,
        0,
        w.rng.randint(41_000, 63_000),
        SEL_TRANSFER + _word(to) + _word(amount),
        logs=[Log.transfer(w.token, frm, to, amount)],
    )


def eth_transfer(frm: str, to: str, value: int) -> EthTx:
    return EthTx(frm, to, value, 21_000)


def approve(w: World, owner: str, spender: str, amount: int) -> EthTx:
    return EthTx(
        owner,
        w.token,
        0,
        46_000,
        SEL_APPROVE + _word(spender) + _word(amount),
        logs=[
            Log(
                w.token,
                [APPROVAL_TOPIC, "0x" + _word(owner), "0x" + _word(spender)],
                "0x" + _word(amount),
            )
        ],
    )


def swap_token_for_eth(w: World, user: str, amount: int) -> EthTx:
    """Router pulls the token into the pool; the pool pays ether back (internal call [1,0])."""
    wei = amount * 10**12 // PRICE_USDT_PER_ETH * 997 // 1000
    return EthTx(
        user,
        w.router,
        0,
        w.rng.randint(120_000, 180_000),
        "0x18cbafe5" + _word(amount),
        frames=[
            Frame((0,), w.router, w.token, 0, SEL_TRANSFER_FROM),
            Frame((1,), w.router, w.pool, 0, "0x022c0d9f"),
            Frame((1, 0), w.pool, user, wei),
        ],
        logs=[Log.transfer(w.token, user, w.pool, amount)],
    )


def swap_eth_for_token(w: World, user: str, wei: int) -> EthTx:
    amount = wei * PRICE_USDT_PER_ETH // 10**12 * 997 // 1000
    return EthTx(
        user,
        w.router,
        wei,
        w.rng.randint(110_000, 160_000),
        "0x7ff36ab5",
        frames=[
            Frame((0,), w.router, w.pool, wei, "0xd0e30db0"),
            Frame((1,), w.router, w.pool, 0, "0x022c0d9f"),
            Frame((1, 0), w.pool, w.token, 0, SEL_TRANSFER),
        ],
        logs=[Log.transfer(w.token, w.pool, user, amount)],
    )


def mixer_deposit(w: World, user: str, denom: int) -> EthTx:
    return EthTx(user, w.mixers[denom], denom, w.rng.randint(880_000, 1_000_000), "0xb214faa5")


def mixer_withdraw(
    w: World, relayer: str, denom: int, to: str, *, gas_price: int | None = None
) -> EthTx:
    """A relayed withdrawal; given the highest gas price it may pay, the relayer's fee covers
    the gas as real relayers quote it (else a relayer running many small withdrawals drains)."""
    gas = w.rng.randint(300_000, 360_000)
    fee = denom // 50 if gas_price is None else min(denom // 2, gas * gas_price + denom // 1000)
    return EthTx(
        relayer,
        w.mixers[denom],
        0,
        gas,
        "0x21a0adb6",
        frames=[
            Frame((0,), w.mixers[denom], to, denom - fee),
            Frame((1,), w.mixers[denom], relayer, fee),
        ],
    )


# --------------------------------------------------------------------------------------------
# the incident


@dataclass
class Planned:
    block: int
    tx: EthTx


def build_world(ids: Ids, rng: random.Random, n_blocks_max: int) -> World:
    token = ids.eth_address()
    base = []
    b = 20 * GWEI
    for _ in range(n_blocks_max):
        b = max(5 * GWEI, min(80 * GWEI, b * rng.randint(88, 112) // 100))
        base.append(b)
    w = World(ids, rng, token, base, Ledger(token))
    w.hot = {e: ids.eth_address() for e in EXCHANGES}
    w.pool, w.router, w.bridge, w.disperse = (ids.eth_address() for _ in range(4))
    w.mixers = {d: ids.eth_address() for d in (ETH // 10, ETH, 10 * ETH)}
    w.issuer = ids.eth_address()
    for e, a in w.hot.items():
        w.labels.append(LabelRow(Chain.ETH, a, e, "exchange"))
        w.ledger.open(a, OPENING_HOT)
    w.labels.append(LabelRow(Chain.ETH, w.pool, "Kilo Swap: USDT-ETH pool", "defi"))
    w.labels.append(LabelRow(Chain.ETH, w.bridge, "Foxtrot Bridge", "bridge"))
    for d, a in w.mixers.items():
        w.labels.append(LabelRow(Chain.ETH, a, f"Echo Mixer {d / ETH:g} ETH", "mixer"))
    w.ledger.open(w.pool, 40_000 * ETH)
    w.ledger.open(w.issuer, 100 * ETH)
    return w


@dataclass
class Incident:
    planned: list[Planned] = field(default_factory=list)
    token_sources: list[EthTx] = field(default_factory=list)
    eth_sources: list[EthTx] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    whales: list[str] = field(default_factory=list)
    span: int = 0


def build_incident(w: World) -> Incident:
    ids, rng, L = w.ids, w.rng, w.ledger
    inc = Incident()
    victim = ids.eth_address()
    L.open(victim, 50 * ETH)
    w.labels.append(LabelRow(Chain.ETH, victim, "Victim Exchange", "victim"))
    relayer = ids.eth_address()
    L.open(relayer, 20 * ETH)
    inc.whales = [ids.eth_address() for _ in range(6)]
    for a in inc.whales:
        L.open(a, 30_000 * ETH)
    block = 0

    def plan(tx: EthTx, at: int) -> EthTx:
        tx.hash = ids.eth_hash()
        tx.price, tx.prio = w.price(at)
        L.apply(tx, tx.price)
        inc.planned.append(Planned(at, tx))
        inc.span = max(inc.span, at)
        return tx

    # bootstrap: the token is issued to its holders
    for holder, amount in [
        (victim, 9_000_000 * USDT),
        (w.pool, 120_000_000 * USDT),
        *[(h, 80_000_000 * USDT) for h in w.hot.values()],
        *[(a, 5_000_000 * USDT) for a in inc.whales],
    ]:
        plan(
            EthTx(
                w.issuer,
                w.token,
                0,
                52_000,
                "0xcc872b66",
                logs=[Log.transfer(w.token, None, holder, amount)],
            ),
            block,
        )
    # the mixer has earlier deposits in its pools
    for d in w.mixers:
        for a in inc.whales[:3]:
            plan(mixer_deposit(w, a, d), block)

    thief: list[str] = []

    def fresh() -> str:
        a = ids.eth_address()
        thief.append(a)
        return a

    x1 = fresh()
    block = 2
    plan(mixer_withdraw(w, relayer, ETH, x1), block)
    block += rng.randint(2, 5)
    for part in (2_150_000, 1_940_000, 815_000):
        amount = part * USDT + rng.randrange(USDT)
        inc.token_sources.append(plan(token_transfer(w, victim, x1, amount), block))
    block += rng.randint(1, 3)
    wallets = [fresh() for _ in range(12)]
    stolen = L.tok[x1]
    plan(approve(w, x1, w.disperse, stolen), block)
    block += 1
    parts = spread(stolen, len(wallets), rng)
    plan(
        EthTx(
            x1,
            w.disperse,
            0,
            30_000 + 32_000 * len(wallets),
            "0xc73a2d60",
            frames=[
                Frame((k,), w.disperse, w.token, 0, SEL_TRANSFER_FROM) for k in range(len(wallets))
            ],
            logs=[Log.transfer(w.token, x1, a, v) for a, v in zip(wallets, parts, strict=True)],
        ),
        block,
    )
    gas_each = 4 * ETH // 10 // len(wallets)
    plan(
        EthTx(
            x1,
            w.disperse,
            gas_each * len(wallets),
            25_000 + 9_000 * len(wallets),
            "0xe63d38ed",
            frames=[Frame((k,), w.disperse, a, gas_each) for k, a in enumerate(wallets)],
        ),
        block,
    )
    # dilution: clean exchange withdrawals into three of the wallets
    block += rng.randint(1, 4)
    for a in wallets[:3]:
        hot = w.hot[rng.choice(EXCHANGES)]
        plan(token_transfer(w, hot, a, rng.randint(50_000, 400_000) * USDT), block)
        plan(eth_transfer(hot, a, rng.randint(5, 30) * ETH // 100), block)

    deposits: list[dict] = []
    poisoning: list[dict] = []
    mixer_txs: list[str] = []
    dormant: list[str] = []
    roles = ["swap"] * 4 + ["bridge"] * 2 + ["exchange"] * 4 + ["hold"] * 2
    rng.shuffle(roles)
    poisoner = ids.eth_address()
    plan(eth_transfer(w.hot[EXCHANGES[0]], poisoner, ETH // 2), block)
    for a, role in zip(wallets, roles, strict=True):
        at = block + rng.randint(1, 6)
        bal = L.tok[a]
        if role == "hold":
            dormant.append(a)
            continue
        if role == "swap":
            plan(approve(w, a, w.router, bal), at)
            at += 1
            s = plan(swap_token_for_eth(w, a, bal), at)
            inc.eth_sources.append(s)
            at += rng.randint(1, 3)
            for denom in (10 * ETH, ETH, ETH // 10):
                while L.eth[a] > denom + ETH // 20:
                    mixer_txs.append(plan(mixer_deposit(w, a, denom), at).hash)
                    at += rng.randint(0, 1)
            continue
        if role == "bridge":
            plan(approve(w, a, w.bridge, bal), at)
            plan(
                EthTx(
                    a,
                    w.bridge,
                    0,
                    rng.randint(70_000, 95_000),
                    "0x0e5c011e",
                    frames=[Frame((0,), w.bridge, w.token, 0, SEL_TRANSFER_FROM)],
                    logs=[Log.transfer(w.token, a, w.bridge, bal)],
                ),
                at + 1,
            )
            continue
        # exchange deposit address, swept to the hot wallet
        ex = rng.choice(EXCHANGES)
        d = ids.eth_address()
        labeled = len(deposits) % 2 == 0
        deposits.append({"address": d, "entity": ex, "labeled": labeled, "hot_wallet": w.hot[ex]})
        if labeled:
            w.labels.append(LabelRow(Chain.ETH, d, ex, "exchange", 80))
        plan(token_transfer(w, a, d, bal), at)
        spare = L.eth[a] - ETH // 50
        if spare > ETH // 100:
            plan(eth_transfer(a, d, spare), at)
        at += rng.randint(1, 5)
        plan(eth_transfer(w.hot[ex], d, 3 * ETH // 1000), at)
        at += 1
        plan(token_transfer(w, d, w.hot[ex], L.tok[d]), at)
        price, _ = w.price(at + 1)
        rest = L.eth[d] - 21_000 * price
        if rest > 0:
            tx = eth_transfer(d, w.hot[ex], rest)
            tx.hash = ids.eth_hash()
            tx.price, tx.prio = price, price - w.base_fee[at + 1]
            L.apply(tx, price)
            inc.planned.append(Planned(at + 1, tx))
            inc.span = max(inc.span, at + 1)
        # address poisoning: a zero-value transferFrom "from" the thief to a look-alike
        fake = ids.eth_lookalike(d)
        plan(
            EthTx(
                poisoner,
                w.token,
                0,
                rng.randint(38_000, 45_000),
                SEL_TRANSFER_FROM + _word(a) + _word(fake) + _word(0),
                logs=[Log.transfer(w.token, a, fake, 0)],
            ),
            at + 2,
        )
        poisoning.append({"poisoner": poisoner, "lookalike": fake, "imitates": d, "victim": a})
    inc.planned.sort(key=lambda p: p.block)
    inc.facts = {
        "victim": {"address": victim, "entity": "Victim Exchange"},
        "thief_addresses": sorted(thief),
        "deposit_addresses": deposits,
        "address_poisoning": poisoning,
        "mixer_deposit_txs": mixer_txs,
        "dormant_addresses": dormant,
        "token": {
            "address": w.token,
            "symbol": "USDT",
            "decimals": 6,
            "name": "Tether USD (scenario)",
        },
        "disperse_contract": w.disperse,
        "dex_router": w.router,
    }
    inc.span += 3
    return inc


# --------------------------------------------------------------------------------------------
# background


class Background:
    POOL_CAP = 50_000

    def __init__(self, w: World, whales: list[str], relayer: str) -> None:
        self.w = w
        self.users: list[str] = list(whales)
        self.keep = set(whales)
        self.relayer = relayer
        self.mixed: dict[int, int] = {d: 0 for d in w.mixers}
        self.cold: dict[str, str] = {}

    def _user(self) -> str:
        return self.users[self.w.rng.randrange(len(self.users))]

    def _new(self) -> str:
        a = self.w.ids.eth_address()
        self.users.append(a)
        return a

    def _trim(self) -> None:
        """Retire random users beyond the cap (between transactions, never inside one)."""
        while len(self.users) > self.POOL_CAP:
            i = self.w.rng.randrange(len(self.users))
            gone = self.users[i]
            if gone in self.keep:
                continue
            self.users[i] = self.users[-1]
            self.users.pop()
            self.w.ledger.forget(gone)

    def _refill(self, exchange: str, hot: str) -> EthTx:
        """The exchange tops its hot wallet up from cold storage, as exchanges do daily.

        Withdrawals outpace deposits over a long history; without top-ups the hot wallets run
        dry and background traffic stalls (10M-transfer scenarios fell 25% short). The cold
        wallet appears on first use, so smaller scenarios are unchanged.
        """
        cold = self.cold.get(exchange)
        if cold is None:
            cold = self.cold[exchange] = self.w.ids.eth_address()
            self.w.ledger.open(cold, COLD_STORAGE)
            self.w.labels.append(LabelRow(Chain.ETH, cold, exchange, "exchange"))
        return eth_transfer(cold, hot, OPENING_HOT // 4)

    def tx(self, block: int) -> EthTx | None:
        self._trim()
        w, rng, L = self.w, self.w.rng, self.w.ledger
        price = w.base_fee[block] + 2 * GWEI  # upper bound of the price actually charged
        r = rng.randrange(100)
        if r < 12:  # exchange withdrawal
            exchange = rng.choice(EXCHANGES)
            hot = w.hot[exchange]
            to = self._new() if rng.random() < 0.7 else self._user()
            if rng.random() < 0.5 and L.tok.get(hot, 0) > 10**6 * USDT:
                return token_transfer(w, hot, to, rng.randint(10, 50_000) * USDT)
            if L.eth.get(hot, 0) < RESERVE:
                return self._refill(exchange, hot)
            return eth_transfer(hot, to, rng.randint(1, 3000) * ETH // 1000)
        for _ in range(4):
            u = self._user()
            eth = L.eth.get(u, 0)
            gas_budget = 200_000 * price
            if eth < gas_budget + ETH // 1000:
                continue
            tok = L.tok.get(u, 0)
            if r < 40 and tok > USDT:
                to = self._new() if rng.random() < 0.4 else self._user()
                if rng.random() < 0.15:
                    to = w.hot[rng.choice(EXCHANGES)]
                return token_transfer(w, u, to, tok * rng.randint(5, 100) // 100)
            if r < 47 and tok > 100 * USDT:
                amt = min(tok * rng.randint(10, 100) // 100, 200_000 * USDT)
                if L.eth.get(w.pool, 0) > RESERVE + amt * 10**12 // PRICE_USDT_PER_ETH:
                    return swap_token_for_eth(w, u, amt)
            if r < 52:
                wei = (eth - gas_budget) * rng.randint(5, 50) // 100
                amount = wei * PRICE_USDT_PER_ETH // 10**12
                if amount > USDT and L.tok.get(w.pool, 0) > amount + 10**6 * USDT:
                    return swap_eth_for_token(w, u, wei)
            if r < 54:
                d = ETH // 10 if eth < 2 * ETH else ETH
                if eth > d + gas_budget * 6:
                    self.mixed[d] += d
                    return mixer_deposit(w, u, d)
            if r < 56:
                d = rng.choice(list(w.mixers))
                if self.mixed[d] >= d:
                    self.mixed[d] -= d
                    return mixer_withdraw(w, self.relayer, d, self._new(), gas_price=price)
            to = self._new() if rng.random() < 0.45 else self._user()
            if rng.random() < 0.15:
                to = w.hot[rng.choice(EXCHANGES)]
            return eth_transfer(u, to, (eth - gas_budget) * rng.randint(5, 90) // 100)
        return None


# --------------------------------------------------------------------------------------------
# writing


_COLUMNS = {
    "blocks": "number,hash,parent_hash,nonce,sha3_uncles,logs_bloom,transactions_root,state_root,"
    "receipts_root,miner,difficulty,total_difficulty,size,extra_data,gas_limit,gas_used,"
    "timestamp,transaction_count,base_fee_per_gas",
    "transactions": "hash,nonce,block_hash,block_number,transaction_index,from_address,"
    "to_address,value,gas,gas_price,input,block_timestamp,max_fee_per_gas,"
    "max_priority_fee_per_gas,transaction_type",
    "receipts": "transaction_hash,transaction_index,block_hash,block_number,cumulative_gas_used,"
    "gas_used,contract_address,root,status,effective_gas_price",
    "logs": "log_index,transaction_hash,transaction_index,block_hash,block_number,address,data,"
    "topics",
    "traces": "block_number,transaction_hash,transaction_index,from_address,to_address,value,"
    "input,output,trace_type,call_type,reward_type,gas,gas_used,subtraces,trace_address,error,"
    "status,trace_id",
    "tokens": "address,symbol,name,decimals,total_supply,block_number",
}


class CsvShards:
    def __init__(self, root: Path, token_row: list[Any]) -> None:
        self.root = root
        self.token_row = token_row
        self.dirs: list[Path] = []
        self.files: dict[str, Any] = {}
        self.writers: dict[str, Any] = {}
        self.n = 0

    def rotate_if_full(self) -> None:
        if self.writers and self.n < common.SHARD_RECORDS:
            return
        self.close()
        d = self.root / f"part-{len(self.dirs):05d}"
        d.mkdir(parents=True, exist_ok=True)
        self.dirs.append(d)
        for kind, cols in _COLUMNS.items():
            fh = (d / f"{kind}.csv").open("w", newline="", encoding="utf-8")
            self.files[kind] = fh
            self.writers[kind] = csv.writer(fh, lineterminator="\n")
            self.writers[kind].writerow(cols.split(","))
        self.writers["tokens"].writerow(self.token_row)
        self.n = 0

    def row(self, kind: str, values: list[Any]) -> None:
        self.writers[kind].writerow(values)

    def close(self) -> None:
        for fh in self.files.values():
            fh.close()
        self.files.clear()
        self.writers.clear()


def canonical(
    tx: EthTx, token: str, block: int, block_hash: str, index: int, ts: int, log0: int
) -> Transaction:
    """What the ethereum-etl importer makes of ``tx`` (for the reference taint models)."""
    t = Transaction(
        Chain.ETH,
        tx.hash,
        block,
        block_hash,
        index,
        ts,
        fee=tx.fee,
        fee_payer=tx.frm,
        to_address=tx.to,
        value=tx.value,
    )
    if tx.value:
        t.transfers.append(Transfer(0, TransferKind.NATIVE, NATIVE, tx.frm, tx.to, tx.value, ""))
    ordered = sorted(tx.frames, key=lambda f: f.path)
    for k, f in enumerate(ordered, start=1):
        if f.value:
            t.transfers.append(
                Transfer(
                    k,
                    TransferKind.INTERNAL,
                    NATIVE,
                    f.frm,
                    f.to,
                    f.value,
                    ",".join(map(str, f.path)),
                )
            )
    for j, lg in enumerate(tx.logs):
        if lg.topics[0] == TRANSFER_TOPIC and lg.address == token:
            frm = "0x" + lg.topics[1][-40:]
            to = "0x" + lg.topics[2][-40:]
            t.transfers.append(
                Transfer(
                    log0 + j,
                    TransferKind.TOKEN,
                    token,
                    None if frm == ZERO else frm,
                    None if to == ZERO else to,
                    int(lg.data, 16),
                )
            )
    return t


def generate_eth(seed: str, out_dir: Path, transfers: int) -> ChainOutput:
    rng = random.Random(f"{seed}:eth")
    ids = Ids(rng)
    per_block = 400
    max_blocks = 200 + transfers // per_block + 1
    w = build_world(ids, rng, max_blocks + 64)
    inc = build_incident(w)
    inc_transfers = sum(len(p.tx.native_moves()) + len(p.tx.logs) for p in inc.planned)
    bg_target = max(0, transfers - inc_transfers)
    n_blocks = max(inc.span + 1, -(-bg_target // per_block))
    relayer = ids.eth_address()
    w.ledger.open(relayer, 50 * ETH)
    bg = Background(w, inc.whales, relayer)
    by_block: dict[int, list[EthTx]] = {}
    for p in inc.planned:
        by_block.setdefault(p.block, []).append(p.tx)
    incident_hashes = {p.tx.hash for p in inc.planned}

    # The incident was planned on the ledger; replay from the opening balances at assembly so
    # that background traffic sees every balance as it is at that point of the chain.
    opening = dict(w.ledger.opening)
    w.ledger = Ledger(w.token)
    for a, v in opening.items():
        w.ledger.open(a, v)
    L = w.ledger

    token_row = [w.token, "USDT", "Tether USD (scenario)", 6, "", START_BLOCK]
    shards = CsvShards(out_dir / "eth", token_row)
    counts = {"blocks": 0, "transactions": 0, "transfers": 0}
    incident_final: list[Transaction] = []
    prev = ids.eth_hash()
    ts = START_TIME
    emitted = 0
    miners = [ids.eth_address() for _ in range(5)]
    for b in range(n_blocks):
        shards.rotate_if_full()
        number = START_BLOCK + b
        ts += 12
        bh = ids.eth_hash()
        txs = list(by_block.get(b, []))
        for t in txs:
            L.apply(t, t.price)
        want = bg_target * (b + 1) // n_blocks
        misses = 0
        while emitted < want and misses < 20:
            t = bg.tx(b)
            if t is None:
                misses += 1
                continue
            t.hash = ids.eth_hash()
            t.price, t.prio = w.price(b)
            L.apply(t, t.price)
            txs.append(t)
            emitted += len(t.native_moves()) + len(t.token_moves(w.token))
        gas_total = sum(t.gas_used for t in txs)
        shards.row(
            "blocks",
            [
                number,
                bh,
                prev,
                "0x0000000000000000",
                "0x" + "1d" * 32,
                "0x" + "00" * 256,
                "0x" + ids.raw(32).hex(),
                "0x" + ids.raw(32).hex(),
                "0x" + ids.raw(32).hex(),
                rng.choice(miners),
                0,
                "",
                50_000 + 120 * len(txs),
                "0x",
                30_000_000,
                gas_total,
                ts,
                len(txs),
                w.base_fee[b],
            ],
        )
        log_index = 0
        cumulative = 0
        for i, t in enumerate(txs):
            cumulative += t.gas_used
            shards.row(
                "transactions",
                [
                    t.hash,
                    0,
                    bh,
                    number,
                    i,
                    t.frm,
                    t.to,
                    t.value,
                    t.gas_used * 6 // 5,
                    t.price,
                    t.input,
                    ts,
                    t.price + 10 * GWEI,
                    t.prio,
                    2,
                ],
            )
            shards.row(
                "receipts",
                [t.hash, i, bh, number, cumulative, t.gas_used, "", "", 1, t.price],
            )
            if t.hash in incident_hashes:
                incident_final.append(canonical(t, w.token, number, bh, i, ts, log_index))
            for lg in t.logs:
                shards.row(
                    "logs",
                    [log_index, t.hash, i, bh, number, lg.address, lg.data, ",".join(lg.topics)],
                )
                log_index += 1
            frames = [Frame((), t.frm, t.to, t.value, t.input), *t.frames]
            for f in frames:
                subtraces = sum(
                    1 for g in frames if len(g.path) == len(f.path) + 1 and g.path[:-1] == f.path
                )
                path = ",".join(map(str, f.path))
                shards.row(
                    "traces",
                    [
                        number,
                        t.hash,
                        i,
                        f.frm,
                        f.to,
                        f.value,
                        f.input,
                        "0x",
                        "call",
                        "call",
                        "",
                        t.gas_used,
                        t.gas_used // 2,
                        subtraces,
                        path,
                        "",
                        1,
                        f"call_{t.hash}_{path}",
                    ],
                )
            counts["transactions"] += 1
            counts["transfers"] += len(t.native_moves()) + len(t.token_moves(w.token))
            shards.n += 1
        counts["blocks"] += 1
        prev = bh
    shards.close()

    out = ChainOutput(
        Chain.ETH,
        "ethereum-etl",
        [str(d.relative_to(out_dir)) for d in shards.dirs],
        labels=w.labels,
        facts=inc.facts,
        incident=incident_final,
        counts=counts,
    )
    # L.opening: the replayed openings plus cold wallets opened on first use
    out.facts["opening_balances"] = {NATIVE: {a: str(v) for a, v in sorted(L.opening.items())}}
    out.facts["first_block"] = START_BLOCK
    out.facts["last_block"] = START_BLOCK + n_blocks - 1
    by_hash = {t.hash: t for t in incident_final}
    tok_sources = []
    for s in inc.token_sources:
        ct = by_hash[s.hash]
        tok_sources += [
            f"{ct.hash}:{tr.index}" for tr in ct.transfers if tr.kind is TransferKind.TOKEN
        ]
    eth_sources = []
    for s in inc.eth_sources:
        ct = by_hash[s.hash]
        eth_sources += [
            f"{ct.hash}:{tr.index}" for tr in ct.transfers if tr.kind is TransferKind.INTERNAL
        ]
    out.traces.append(TraceSpec("stolen USDT", w.token, "USDT", 6, tok_sources))
    out.traces.append(TraceSpec("ETH from swapping stolen USDT", NATIVE, "ETH", 18, eth_sources))
    return out
