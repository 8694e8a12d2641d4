"""Bitcoin scenario: an exchange hot wallet drained, split, peeled into exchanges, mixed, parked.

Modelled on public post-mortems of hot-wallet thefts (e.g. the 2019 Binance and 2020 KuCoin
incidents as traced by analytics firms): the attacker sweeps the hot wallet's outputs in a few
large transactions, consolidates, splits into a handful of outputs and runs *peel chains* off
each one - every hop pays a small amount to an exchange deposit address, a mixer or a bridge
and sends the change to a fresh address. Some chains stop and stay dormant. One chain passes
through a 5-party CoinJoin (equal outputs plus change), the case where the taint models differ
most. Exchange deposit addresses are swept to the exchange's hot wallet a few blocks later.

Data written: bitcoin-etl JSON lines (``btc/part-NNNNN.jsonl``, block and transaction items)
with enriched inputs (value, type, addresses), so every fee is exact. Coinbases pay exactly
subsidy + the block's fees; the first blocks ("bootstrap") carry only coinbases, which fund the
victim, the CoinJoin participants and the background users, so every input spends an output
that is in the data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from fundtrace.core.model import NATIVE, Chain, Transaction, TxInput, TxOutput
from fundtrace.scenarios.common import ChainOutput, JsonlShards, LabelRow, TraceSpec, spread
from fundtrace.scenarios.ids import Ids, btc_script_hex, btc_type

START_HEIGHT = 850_000
START_TIME = 1_719_000_000  # June 2024
SUBSIDY = 312_500_000  # 3.125 BTC after the 2024 halving
DUST = 546
BOOTSTRAP_BLOCKS = 48
POOL_CAP = 200_000

_IN_VB = {
    "witness_v0_keyhash": 68,
    "pubkeyhash": 148,
    "scripthash": 91,
    "witness_v1_taproot": 58,
    "witness_v0_scripthash": 105,
}
_OUT_VB = {
    "witness_v0_keyhash": 31,
    "pubkeyhash": 34,
    "scripthash": 32,
    "witness_v1_taproot": 43,
    "witness_v0_scripthash": 43,
}

EXCHANGES = ("Alpha Exchange", "Bravo Exchange", "Charlie Exchange", "Delta Exchange")
MIXER = "Echo Mixer"
BRIDGE = "Foxtrot Bridge"
VICTIM = "Victim Exchange"


@dataclass(slots=True)
class Utxo:
    txid: str
    vout: int
    value: int
    address: str


@dataclass(slots=True)
class Planned:
    block: int  # offset from the first block of the scenario
    tx: Transaction


def vsize(inputs: list[str], outputs: list[str]) -> int:
    """Virtual size from the address kinds of inputs and outputs (standard signatures)."""
    return (
        11
        + sum(_IN_VB[btc_type(a)] for a in inputs)
        + sum(_OUT_VB.get(btc_type(a), 34) for a in outputs)
    )


def make_tx(ids: Ids, spends: list[Utxo], pays: list[tuple[str, int]]) -> Transaction:
    tx = Transaction(Chain.BTC, ids.btc_hash(), None)
    for j, u in enumerate(spends):
        tx.inputs.append(
            TxInput(j, u.txid, u.vout, u.value, u.address, btc_type(u.address), 0xFFFFFFFD)
        )
    for k, (addr, value) in enumerate(pays):
        tx.outputs.append(TxOutput(k, value, btc_type(addr), addr, btc_script_hex(addr)))
    tx.fee = sum(u.value for u in spends) - sum(v for _, v in pays)
    if tx.fee < 0 or any(v < DUST for _, v in pays):
        raise AssertionError(f"generator bug: bad btc tx {tx.hash} ({spends} -> {pays})")
    return tx


def outs(tx: Transaction) -> list[Utxo]:
    return [Utxo(tx.hash, o.index, o.value, o.address or "") for o in tx.outputs]


def fee_for(rng: random.Random, inputs: list[str], outputs: list[str]) -> int:
    return vsize(inputs, outputs) * rng.randint(4, 40)


# --------------------------------------------------------------------------------------------
# incident


@dataclass
class Incident:
    bootstrap: list[Transaction] = field(default_factory=list)  # coinbases of bootstrap blocks
    bootstrap_seed: list[Utxo] = field(default_factory=list)  # background users' funds
    planned: list[Planned] = field(default_factory=list)
    labels: list[LabelRow] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    span: int = 0


def build_incident(ids: Ids, rng: random.Random) -> Incident:
    inc = Incident()
    hot = ids.btc_address("p2wsh")
    cj_people = [ids.btc_address() for _ in range(4)]
    hot_utxos: list[Utxo] = []
    cj_utxos: list[Utxo] = []
    for b in range(BOOTSTRAP_BLOCKS):
        cb = Transaction(Chain.BTC, ids.btc_hash(), None, is_coinbase=True)
        cb.inputs.append(TxInput(0, None, None))
        pays = [(hot, 275_000_000)]
        rest = SUBSIDY - 275_000_000
        if b < len(cj_people):
            pays.append((cj_people[b], 20_000_000))
            rest -= 20_000_000
        for part in spread(rest, 3, rng):
            pays.append((ids.btc_address(), part))
        for k, (a, v) in enumerate(pays):
            cb.outputs.append(TxOutput(k, v, btc_type(a), a, btc_script_hex(a)))
        cb.fee = 0
        inc.bootstrap.append(cb)
        for u in outs(cb):
            if u.address == hot:
                hot_utxos.append(u)
            elif u.address in cj_people:
                cj_utxos.append(u)
            else:
                inc.bootstrap_seed.append(u)

    exch_hot = {e: ids.btc_address("p2wpkh") for e in EXCHANGES}
    mixer = ids.btc_address("p2wpkh")
    bridge = ids.btc_address("p2tr")
    for e, a in exch_hot.items():
        inc.labels.append(LabelRow(Chain.BTC, a, e, "exchange"))
    inc.labels.append(LabelRow(Chain.BTC, hot, VICTIM, "victim"))
    inc.labels.append(LabelRow(Chain.BTC, mixer, MIXER, "mixer"))
    inc.labels.append(LabelRow(Chain.BTC, bridge, BRIDGE, "bridge"))

    block = BOOTSTRAP_BLOCKS + 2
    thief: list[str] = []
    deposits: list[dict] = []
    dormant: list[str] = []
    pending_sweeps: list[tuple[int, Utxo, str]] = []

    def plan(tx: Transaction, at: int) -> Transaction:
        inc.planned.append(Planned(at, tx))
        return tx

    def fresh_thief(kind: str | None = None) -> str:
        a = ids.btc_address(kind)
        thief.append(a)
        return a

    # 1. the drain: three sweeps of 16 hot-wallet outputs each, change back to the hot wallet
    drained: list[Utxo] = []
    for i in range(3):
        spends = hot_utxos[16 * i : 16 * (i + 1)]
        total = sum(u.value for u in spends)
        a = fresh_thief("p2wpkh")
        fee = fee_for(rng, [u.address for u in spends], [a, hot])
        take = total - fee - rng.randrange(1_000_000, 30_000_000)
        pays = [(a, take), (hot, total - fee - take)]
        tx = plan(make_tx(ids, spends, pays), block)
        inc.sources.append(f"{tx.hash}:0")
        drained.append(outs(tx)[0])
    # 2. consolidate
    block += rng.randint(1, 3)
    t0 = fresh_thief("p2wpkh")
    total = sum(u.value for u in drained)
    fee = fee_for(rng, [u.address for u in drained], [t0])
    cons = plan(make_tx(ids, drained, [(t0, total - fee)]), block)
    # 3. split into 8
    block += rng.randint(1, 3)
    heads = [fresh_thief() for _ in range(8)]
    u0 = outs(cons)[0]
    fee = fee_for(rng, [t0], heads)
    split = plan(
        make_tx(ids, [u0], list(zip(heads, spread(u0.value - fee, 8, rng), strict=True))), block
    )
    chains = outs(split)

    def deposit_to(exchange: str, labeled: bool) -> str:
        d = ids.btc_address(rng.choice(["p2wpkh", "p2sh", "p2pkh"]))
        deposits.append(
            {"address": d, "entity": exchange, "labeled": labeled, "hot_wallet": exch_hot[exchange]}
        )
        if labeled:
            inc.labels.append(LabelRow(Chain.BTC, d, exchange, "exchange", 80))
        return d

    def destination() -> str:
        r = rng.randrange(100)
        if r < 45:
            return deposit_to(rng.choice(EXCHANGES), True)
        if r < 60:
            return deposit_to(rng.choice(EXCHANGES), False)
        if r < 70:
            return mixer
        if r < 80:
            return bridge
        d = fresh_thief()
        dormant.append(d)
        return d

    coinjoin_txid = None
    # 4. peel chains
    for c, head in enumerate(chains):
        cur = head
        at = block + 1 + rng.randint(0, 4)
        hops = rng.randint(3, 7)
        for hop in range(hops):
            if c == 0 and hop == 1:
                # a 5-party CoinJoin: equal 0.05 BTC outputs, every party also gets change
                denom = 5_000_000
                parts = [cur, *cj_utxos]
                mine = fresh_thief("p2wpkh")
                my_change = fresh_thief("p2wpkh")
                others = [(ids.btc_address("p2wpkh"), ids.btc_address("p2wpkh")) for _ in cj_utxos]
                equal_addrs = [mine] + [o[0] for o in others]
                change_addrs = [my_change] + [o[1] for o in others]
                fee_each = fee_for(rng, [u.address for u in parts], equal_addrs + change_addrs) // 5
                pays = [(a, denom) for a in equal_addrs]
                pays += [
                    (a, u.value - denom - fee_each)
                    for a, u in zip(change_addrs, parts, strict=True)
                ]
                order = list(range(5))
                rng.shuffle(order)
                pays = [pays[k] for k in order] + [pays[5 + k] for k in order]
                cj = plan(make_tx(ids, parts, pays), at)
                coinjoin_txid = cj.hash
                cj_outs = {u.address: u for u in outs(cj)}
                # the mixed output goes to an exchange; the toxic change keeps peeling
                m = cj_outs[mine]
                at += rng.randint(1, 3)
                d = deposit_to(rng.choice(EXCHANGES), True)
                fee = fee_for(rng, [mine], [d])
                tx = plan(make_tx(ids, [m], [(d, m.value - fee)]), at)
                pending_sweeps.append((at + rng.randint(1, 3), outs(tx)[0], d))
                cur = cj_outs[my_change]
                at += rng.randint(1, 3)
                continue
            dest = destination()
            nxt = fresh_thief()
            peel = max(DUST * 10, cur.value * rng.randint(5, 80) // 1000)
            fee = fee_for(rng, [cur.address], [dest, nxt])
            pays = [(dest, peel), (nxt, cur.value - peel - fee)]
            if rng.random() < 0.5:
                pays.reverse()
            tx = plan(make_tx(ids, [cur], pays), at)
            for u in outs(tx):
                if u.address == nxt:
                    cur = u
                elif any(d["address"] == dest for d in deposits):
                    pending_sweeps.append((at + rng.randint(1, 4), u, dest))
            at += rng.randint(1, 4)
        if c % 3 == 2:
            dormant.append(cur.address)  # the chain stops: the rest stays where it is
        else:
            d = deposit_to(rng.choice(EXCHANGES), c % 2 == 0)
            fee = fee_for(rng, [cur.address], [d])
            tx = plan(make_tx(ids, [cur], [(d, cur.value - fee)]), at)
            pending_sweeps.append((at + rng.randint(1, 4), outs(tx)[0], d))
        inc.span = max(inc.span, at)
    # 5. exchanges sweep deposit addresses to their hot wallets
    hot_of = {d["address"]: d["hot_wallet"] for d in deposits}
    for at, u, d in pending_sweeps:
        hw = hot_of[d]
        fee = fee_for(rng, [d], [hw])
        plan(make_tx(ids, [u], [(hw, u.value - fee)]), at)
        inc.span = max(inc.span, at)
    inc.planned.sort(key=lambda p: p.block)  # stable: dependency order kept within a block
    inc.facts = {
        "victim": {"address": hot, "entity": VICTIM},
        "thief_addresses": sorted(set(thief)),
        "deposit_addresses": deposits,
        "dormant_addresses": sorted(set(dormant)),
        "coinjoin_txids": [coinjoin_txid] if coinjoin_txid else [],
        "theft_txids": [s.split(":")[0] for s in inc.sources],
    }
    inc.span += 3
    return inc


# --------------------------------------------------------------------------------------------
# background traffic and block assembly


class Background:
    """Unrelated users spending a bounded pool of their own outputs."""

    def __init__(self, ids: Ids, rng: random.Random, seed: list[Utxo]) -> None:
        self.ids = ids
        self.rng = rng
        self.pool: list[Utxo] = list(seed)
        self.recent: list[str] = []

    def add(self, utxos: list[Utxo]) -> None:
        self.pool.extend(u for u in utxos if u.value >= DUST * 4)
        while len(self.pool) > POOL_CAP:
            self._take()  # evicted outputs simply stay unspent

    def _take(self) -> Utxo:
        i = self.rng.randrange(len(self.pool))
        self.pool[i], self.pool[-1] = self.pool[-1], self.pool[i]
        return self.pool.pop()

    def _payee(self) -> str:
        if self.recent and self.rng.random() < 0.3:
            return self.rng.choice(self.recent)
        a = self.ids.btc_address()
        self.recent.append(a)
        if len(self.recent) > 5000:
            self.recent.pop(0)
        return a

    def tx(self) -> Transaction | None:
        rng = self.rng
        if len(self.pool) < 8:
            return None
        r = rng.randrange(100)
        if len(self.pool) < 400:
            r = 15  # too few coins to go round: batch payouts multiply them
        if r < 2 and len(self.pool) > 50:
            return self._coinjoin()
        if r < 12:
            spends = [self._take() for _ in range(rng.randint(5, 12))]
            dest = [self._payee()]
            total = sum(u.value for u in spends)
            fee = fee_for(rng, [u.address for u in spends], dest)
            if total - fee < DUST * 4:
                return None
            return make_tx(self.ids, spends, [(dest[0], total - fee)])
        spends = [self._take() for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))]
        total = sum(u.value for u in spends)
        n_pay = rng.randint(5, 15) if r < 20 else 1
        payees = [self._payee() for _ in range(n_pay)]
        change = spends[0].address if rng.random() < 0.15 else self.ids.btc_address()
        fee = fee_for(rng, [u.address for u in spends], [*payees, change])
        budget = total - fee
        if budget < DUST * 4 * (n_pay + 1):
            if budget >= DUST * 4:
                return make_tx(self.ids, spends, [(payees[0], budget)])
            self.pool.extend(spends)
            return None
        pay_total = min(budget * rng.randint(10, 90) // 100, budget - 2 * DUST)
        parts = spread(pay_total, n_pay, rng) if n_pay > 1 else [pay_total]
        pays = [(a, v) for a, v in zip(payees, parts, strict=True) if v >= DUST]
        rest = budget - sum(v for _, v in pays)
        pays.insert(rng.randrange(len(pays) + 1), (change, rest))
        return make_tx(self.ids, spends, pays)

    def _coinjoin(self) -> Transaction | None:
        denom = self.rng.choice((100_000, 1_000_000, 5_000_000))
        picked: list[Utxo] = []
        skipped: list[Utxo] = []
        while len(picked) < 5 and self.pool and len(skipped) < 50:
            u = self._take()
            (picked if u.value > denom + 20_000 else skipped).append(u)
        self.pool.extend(skipped)
        if len(picked) < 5:
            self.pool.extend(picked)
            return None
        eq = [self.ids.btc_address("p2wpkh") for _ in range(5)]
        ch = [self.ids.btc_address("p2wpkh") for _ in range(5)]
        fee_each = fee_for(self.rng, [u.address for u in picked], eq + ch) // 5 + 1
        pays = [(a, denom) for a in eq]
        pays += [(a, u.value - denom - fee_each) for a, u in zip(ch, picked, strict=True)]
        pays = [p for p in pays if p[1] >= DUST]
        return make_tx(self.ids, picked, pays)


def _etl_tx(tx: Transaction, block: int, block_hash: str, ts: int, index: int) -> dict:
    inputs = [
        {
            "index": i.index,
            "spent_transaction_hash": i.spent_txid,
            "spent_output_index": i.spent_vout,
            "script_asm": "",
            "script_hex": "",
            "sequence": i.sequence,
            "required_signatures": None,
            "type": i.script_type,
            "addresses": [i.address],
            "value": i.value,
        }
        for i in tx.inputs
        if not tx.is_coinbase
    ]
    outputs = [
        {
            "index": o.index,
            "script_asm": "",
            "script_hex": o.script_hex,
            "required_signatures": None if o.address is None else 1,
            "type": o.script_type,
            "addresses": [o.address] if o.address else [],
            "value": o.value,
        }
        for o in tx.outputs
    ]
    vs = 11 + 68 * len(tx.inputs) + 31 * len(tx.outputs)
    in_value = sum(i["value"] for i in inputs)
    out_value = sum(o.value for o in tx.outputs)
    return {
        "hash": tx.hash,
        "size": vs + 27 * len(inputs),
        "virtual_size": vs,
        "version": 2,
        "lock_time": 0 if tx.is_coinbase else block - 1,
        "block_number": block,
        "block_hash": block_hash,
        "block_timestamp": ts,
        "is_coinbase": tx.is_coinbase,
        "index": index,
        "inputs": inputs,
        "outputs": outputs,
        "input_count": len(inputs),
        "output_count": len(outputs),
        "input_value": in_value,
        "output_value": out_value,
        "fee": 0 if tx.is_coinbase else in_value - out_value,
    }


def generate_btc(seed: str, out_dir: Path, transfers: int) -> ChainOutput:
    """Write the Bitcoin part of a scenario under ``out_dir/btc`` and describe it."""
    rng = random.Random(f"{seed}:btc")
    ids = Ids(rng)
    inc = build_incident(ids, rng)
    incident_transfers = sum(len(p.tx.outputs) for p in inc.planned)
    bg_target = max(0, transfers - incident_transfers - sum(len(c.outputs) for c in inc.bootstrap))
    per_block = 2500
    active = max(inc.span - BOOTSTRAP_BLOCKS, -(-bg_target // per_block))
    n_blocks = BOOTSTRAP_BLOCKS + active
    bg = Background(ids, rng, inc.bootstrap_seed)
    pools = [ids.btc_address("p2wpkh") for _ in range(4)]
    by_block: dict[int, list[Transaction]] = {}
    for p in inc.planned:
        by_block.setdefault(p.block, []).append(p.tx)

    shards = JsonlShards(out_dir / "btc", "part")
    counts = {"blocks": 0, "transactions": 0, "transfers": 0}
    incident_final: list[Transaction] = []
    incident_ids = {p.tx.hash for p in inc.planned}
    prev_hash = ids.btc_block_hash()
    ts = START_TIME
    emitted_bg = 0
    for b in range(n_blocks):
        shards.rotate_if_full()
        height = START_HEIGHT + b
        ts += rng.randint(60, 1200)
        block_hash = ids.btc_block_hash()
        txs = list(by_block.get(b, []))
        if b >= BOOTSTRAP_BLOCKS:
            want = bg_target * (b - BOOTSTRAP_BLOCKS + 1) // active
            misses = 0
            while emitted_bg < want and misses < 50:
                t = bg.tx()
                if t is None:
                    misses += 1
                    continue
                emitted_bg += len(t.outputs)
                txs.append(t)
                bg.add(outs(t))
            fees = sum(t.fee or 0 for t in txs)
            cb = Transaction(Chain.BTC, ids.btc_hash(), None, is_coinbase=True, fee=0)
            cb.inputs.append(TxInput(0, None, None))
            pool = rng.choice(pools)
            cb.outputs.append(
                TxOutput(0, SUBSIDY + fees, btc_type(pool), pool, btc_script_hex(pool))
            )
            commitment = "6a24aa21a9ed" + ids.raw(32).hex()
            cb.outputs.append(TxOutput(1, 0, "nulldata", None, commitment))
            bg.add(outs(cb)[:1])
        else:
            cb = inc.bootstrap[b]
        txs.insert(0, cb)
        shards.write(
            {
                "hash": block_hash,
                "size": 0,
                "stripped_size": 0,
                "weight": 0,
                "number": height,
                "version": 0x20000000,
                "merkle_root": ids.raw(32).hex(),
                "timestamp": ts,
                "nonce": ids.raw(4).hex(),
                "bits": "17034219",
                "coinbase_param": "03" + height.to_bytes(3, "little").hex(),
                "previous_block_hash": prev_hash,
                "transaction_count": len(txs),
            },
            count=False,
        )
        for i, t in enumerate(txs):
            t.block_number, t.block_hash, t.tx_index, t.timestamp = height, block_hash, i, ts
            shards.write(_etl_tx(t, height, block_hash, ts, i))
            counts["transactions"] += 1
            counts["transfers"] += len(t.outputs)
            if t.hash in incident_ids:
                incident_final.append(t)
        counts["blocks"] += 1
        prev_hash = block_hash
    shards.close()

    out = ChainOutput(
        Chain.BTC,
        "bitcoin-etl",
        [str(p.relative_to(out_dir)) for p in shards.paths],
        labels=inc.labels,
        facts=inc.facts,
        incident=incident_final,
        counts=counts,
    )
    out.facts["first_block"] = START_HEIGHT
    out.facts["last_block"] = START_HEIGHT + n_blocks - 1
    out.traces.append(TraceSpec("stolen BTC", NATIVE, "BTC", 8, inc.sources))
    return out
