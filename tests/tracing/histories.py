"""Random small histories for property tests, and brute-force per-unit reference simulations."""

from __future__ import annotations

import random

from fundtrace.core.model import (
    NATIVE,
    Chain,
    Transaction,
    Transfer,
    TransferKind,
    TxInput,
    TxOutput,
)


def random_utxo_history(rnd: random.Random, n_tx: int = 12) -> list[Transaction]:
    """Coinbases then spends of 1-3 unspent outputs into 1-3 outputs with a small fee."""
    txs: list[Transaction] = []
    unspent: list[tuple[str, int, int]] = []
    addrs = [f"a{i}" for i in range(6)]
    for b in range(3):
        h = f"cb{b}"
        outs = [
            TxOutput(i, rnd.randint(1, 40), "pubkeyhash", rnd.choice(addrs))
            for i in range(rnd.randint(1, 2))
        ]
        txs.append(
            Transaction(
                Chain.BTC,
                h,
                b,
                tx_index=0,
                is_coinbase=True,
                inputs=[TxInput(0, None, None)],
                outputs=outs,
            )
        )
        unspent += [(h, o.index, o.value) for o in outs]
    for k in range(n_tx):
        if not unspent:
            break
        rnd.shuffle(unspent)
        take = unspent[: rnd.randint(1, min(3, len(unspent)))]
        del unspent[: len(take)]
        total = sum(v for _, _, v in take)
        fee = rnd.randint(0, min(3, total - 1)) if total > 1 else 0
        left = total - fee
        n_out = rnd.randint(1, min(3, left))
        cuts = sorted(rnd.sample(range(1, left), n_out - 1)) if n_out > 1 else []
        vals = [b - a for a, b in zip([0, *cuts], [*cuts, left], strict=True)]
        h = f"t{k}"
        outs = [TxOutput(i, v, "pubkeyhash", rnd.choice(addrs)) for i, v in enumerate(vals)]
        ins = [TxInput(i, tid, vout) for i, (tid, vout, _) in enumerate(take)]
        txs.append(Transaction(Chain.BTC, h, 10 + k, tx_index=0, inputs=ins, outputs=outs))
        unspent += [(h, o.index, o.value) for o in outs]
    return txs


def utxo_unit_sim(
    txs: list[Transaction], sources: set[tuple[str, int]], lifo: bool
) -> tuple[dict[tuple[str, int], list[bool]], int]:
    """Per-satoshi fifo/lifo: every output is a list of taint flags; returns outputs and fee."""
    units: dict[tuple[str, int], list[bool]] = {}
    fee = 0
    for tx in txs:
        pool: list[bool] = []
        ins = [i for i in tx.inputs if not i.is_coinbase]
        for i in reversed(ins) if lifo else ins:
            pool += units[(i.spent_txid, i.spent_vout)]  # type: ignore[index]
        if tx.is_coinbase:
            pool = [False] * tx.output_total()
        pos = 0
        for o in tx.outputs:
            units[(tx.hash, o.index)] = (
                [True] * o.value if (tx.hash, o.index) in sources else pool[pos : pos + o.value]
            )
            pos += o.value
        fee += sum(pool[pos:])
    return units, fee


def random_account_history(rnd: random.Random, n_tx: int = 14) -> list[Transaction]:
    """Mints, then transfers between a few addresses; some overdraw (incomplete history)."""
    addrs = [f"0x{i:02x}" for i in range(5)]
    bal = dict.fromkeys(addrs, 0)
    txs: list[Transaction] = []
    for k in range(n_tx):
        trs: list[Transfer] = []
        fee, payer = 0, None
        if k < 3 or rnd.random() < 0.15:
            to = rnd.choice(addrs)
            amt = rnd.randint(1, 50)
            trs.append(Transfer(0, TransferKind.NATIVE, NATIVE, None, to, amt))
            bal[to] += amt
        else:
            payer = rnd.choice(addrs)
            fee = rnd.randint(0, 2)
            bal[payer] -= fee
            for j in range(rnd.randint(1, 3)):
                f = payer if j == 0 else rnd.choice(addrs)
                to = rnd.choice([a for a in addrs if a != f])
                hi = bal[f] + (3 if rnd.random() < 0.1 else 0)
                amt = rnd.randint(0, max(hi, 0))
                kind = TransferKind.NATIVE if j == 0 else TransferKind.INTERNAL
                trs.append(Transfer(j, kind, NATIVE, f, to, amt))
                bal[f] -= amt
                bal[to] += amt
        ok = rnd.random() > 0.08
        txs.append(
            Transaction(
                Chain.ETH,
                f"h{k}",
                k,
                tx_index=0,
                fee=fee,
                fee_payer=payer,
                success=ok,
                transfers=trs,
            )
        )
        if not ok:
            for t in trs:  # a failed tx moved nothing but the fee
                if t.from_address:
                    bal[t.from_address] += t.amount
                if t.to_address:
                    bal[t.to_address] -= t.amount
    return txs


def account_unit_sim(
    txs: list[Transaction], sources: set[tuple[str, int]], lifo: bool
) -> tuple[dict[str, list[bool]], dict[str, int], int]:
    """Per-unit fifo/lifo over the native ledger: holdings per address, sinks (fee, burn)."""
    held: dict[str, list[bool]] = {}
    fee_t = 0

    def out(addr: str, amount: int) -> list[bool]:
        lots = held.setdefault(addr, [])
        deficit = max(0, amount - len(lots))
        take = amount - deficit
        if lifo:
            got = lots[len(lots) - take :] if take else []
            del lots[len(lots) - take :]
        else:
            got = lots[:take]
            del lots[:take]
        return [False] * deficit + got

    for tx in txs:
        if tx.fee and tx.fee_payer:
            fee_t += sum(out(tx.fee_payer, tx.fee))
        if not tx.success:
            continue
        for t in sorted(tx.transfers, key=lambda t: t.index):
            units = out(t.from_address, t.amount) if t.from_address else [False] * t.amount
            if (tx.hash, t.index) in sources:
                units = [True] * t.amount
            if t.to_address:
                held.setdefault(t.to_address, []).extend(units)
    return held, {}, fee_t
