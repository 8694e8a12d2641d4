"""Minimal converters from the shared Bitcoin fixtures to canonical Transactions for these tests.

The real adapters live in fundtrace/chains (built separately); attribution tests only need the
fields the heuristics read, converted exactly (integer satoshi, Decimal for Core JSON).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from fundtrace.core.amounts import btc_to_sat
from fundtrace.core.model import Chain, Transaction, TxInput, TxOutput

_ESPLORA_TYPES = {
    "p2pk": "pubkey",
    "p2pkh": "pubkeyhash",
    "p2sh": "scripthash",
    "v0_p2wpkh": "witness_v0_keyhash",
    "v0_p2wsh": "witness_v0_scripthash",
    "v1_p2tr": "witness_v1_taproot",
    "multisig": "multisig",
    "op_return": "nulldata",
    "unknown": "witness_unknown",
}


def esplora_tx(d: dict) -> Transaction:
    tx = Transaction(Chain.BTC, d["txid"], (d.get("status") or {}).get("block_height"))
    for n, vin in enumerate(d["vin"]):
        if vin.get("is_coinbase"):
            tx.is_coinbase = True
            tx.inputs.append(TxInput(n, None, None))
            continue
        p = vin["prevout"]
        tx.inputs.append(
            TxInput(
                n,
                vin["txid"],
                vin["vout"],
                p["value"],
                p.get("scriptpubkey_address") or None,
                _ESPLORA_TYPES[p["scriptpubkey_type"]],
            )
        )
    for n, o in enumerate(d["vout"]):
        tx.outputs.append(
            TxOutput(
                n,
                o["value"],
                _ESPLORA_TYPES[o["scriptpubkey_type"]],
                o.get("scriptpubkey_address") or None,
            )
        )
    return tx


def load_esplora(path: Path) -> list[Transaction]:
    data = json.loads(path.read_text())
    return [esplora_tx(d) for d in (data if isinstance(data, list) else [data])]


def core_block_v3(path: Path) -> list[Transaction]:
    """Bitcoin Core ``getblock <hash> 3`` (inputs carry prevouts)."""
    block = json.loads(path.read_text(), parse_float=Decimal)["result"]
    out = []
    for d in block["tx"]:
        tx = Transaction(Chain.BTC, d["txid"], block["height"])
        for n, vin in enumerate(d["vin"]):
            if "coinbase" in vin:
                tx.is_coinbase = True
                tx.inputs.append(TxInput(n, None, None))
                continue
            spk = vin["prevout"]["scriptPubKey"]
            tx.inputs.append(
                TxInput(
                    n,
                    vin["txid"],
                    vin["vout"],
                    btc_to_sat(vin["prevout"]["value"]),
                    spk.get("address"),
                    spk["type"],
                )
            )
        for o in d["vout"]:
            spk = o["scriptPubKey"]
            tx.outputs.append(
                TxOutput(o["n"], btc_to_sat(o["value"]), spk["type"], spk.get("address"))
            )
        out.append(tx)
    return out
