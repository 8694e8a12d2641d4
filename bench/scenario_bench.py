"""Scenario generation throughput, and the tracing engine checked against the ground truth.

    .venv/bin/python bench/scenario_bench.py [--kind incident-3chain] [--transfers 3000]
        [--out /tmp/scenario-bench] [--no-engine]

Prints transfers written per second, then for every trace in ground_truth.json and every model
whether the engine's labeled endpoints equal the reference figures exactly.
"""

from __future__ import annotations

import argparse
import json
import time

from fundtrace.ingest.dispatch import parse_inputs
from fundtrace.scenarios import generate
from fundtrace.scenarios.taint_account import chain_order


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", default="incident-3chain")
    ap.add_argument("--transfers", type=int, default=3000)
    ap.add_argument("--seed", default="bench")
    ap.add_argument("--out", default="/tmp/scenario-bench")
    ap.add_argument("--no-engine", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    m = generate(args.kind, args.seed, args.out, transfers=args.transfers)
    dt = time.perf_counter() - t0
    n = sum(c["transfers"] for c in m.counts.values())
    print(f"generated {n} transfers in {dt:.2f}s ({n / dt:,.0f}/s): {m.counts}")
    if args.no_engine:
        return
    from fundtrace.tracing.account_ledger import build_account_ledger
    from fundtrace.tracing.engine import trace
    from fundtrace.tracing.utxo_graph import build_utxo_graph

    truth = json.loads(m.ground_truth.read_text())
    for inp in m.inputs:
        txs = []
        for _, batch in parse_inputs(inp.chain, inp.fmt, inp.paths):
            txs += batch.transactions
        txs = chain_order(txs)
        gt = truth["chains"][inp.chain.value]
        attribution = {e["address"]: (e["entity"], e["category"]) for e in gt["labeled_endpoints"]}
        for spec in gt["traces"]:
            if inp.chain.is_utxo:
                data = build_utxo_graph(txs)
            else:
                data = build_account_ledger(txs, spec["asset"])
            for model, want in spec["models"].items():
                t1 = time.perf_counter()
                r = trace(data, spec["sources"], model=model, attribution=attribution)
                got: dict[str, int] = {}
                for e in r.endpoints:
                    if e.kind == "labeled":
                        got[e.address] = got.get(e.address, 0) + int(e.amount)
                expected = {a: int(v) for a, v in want["endpoints"].items()}
                verdict = "match" if got == expected else f"DIFFERS ({got} vs {expected})"
                ms = (time.perf_counter() - t1) * 1000
                print(f"{inp.chain.value} {spec['name']!r} {model}: {verdict} [{ms:.1f} ms]")


if __name__ == "__main__":
    main()
