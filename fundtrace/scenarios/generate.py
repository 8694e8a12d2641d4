"""``generate``: write one scenario (chain data, ``labels.csv``, ``ground_truth.json``).

The ground truth's taint figures come from the reference models in this package
(``taint_utxo``/``taint_account``), run over the incident's own transactions with the labels
as stopping points - never from the tracing engine, so the engine can be checked against them.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fundtrace.core.model import Chain
from fundtrace.scenarios.btc import generate_btc
from fundtrace.scenarios.common import ChainOutput
from fundtrace.scenarios.eth import generate_eth
from fundtrace.scenarios.sol import generate_sol
from fundtrace.scenarios.taint_account import ACCOUNT_MODELS, account_taint
from fundtrace.scenarios.taint_result import ROUNDING_RULES, TaintFigures
from fundtrace.scenarios.taint_utxo import UTXO_MODELS, utxo_taint

Generator = Callable[[str, Path, int], ChainOutput]

KINDS: dict[str, tuple[tuple[Generator, int], ...]] = {
    # kind -> (chain generator, share of the requested transfers in percent)
    "btc-hot-wallet-drain": ((generate_btc, 100),),
    "eth-erc20-drain": ((generate_eth, 100),),
    "sol-spl-drain": ((generate_sol, 100),),
    "incident-3chain": ((generate_btc, 40), (generate_eth, 40), (generate_sol, 20)),
}
DEFAULT_TRANSFERS = 3_000
MIN_TRANSFERS = 1_000
MAX_TRANSFERS = 10_000_000


@dataclass(slots=True)
class ChainInputs:
    chain: Chain
    fmt: str
    paths: list[Path]


@dataclass(slots=True)
class ScenarioManifest:
    """What was written: the import units per chain, the label file and the ground truth."""

    kind: str
    seed: str
    out_dir: Path
    inputs: list[ChainInputs]
    labels_csv: Path
    ground_truth: Path
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    figures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "seed": self.seed,
            "inputs": [
                {
                    "chain": i.chain.value,
                    "format": i.fmt,
                    "paths": [str(p.relative_to(self.out_dir)) for p in i.paths],
                }
                for i in self.inputs
            ],
            "labels": self.labels_csv.name,
            "ground_truth": self.ground_truth.name,
            "counts": self.counts,
        }


def reference_figures(out: ChainOutput, stop: set[str]) -> list[dict[str, Any]]:
    """Per trace spec, the figures of every model this chain supports."""
    result = []
    for spec in out.traces:
        models: dict[str, Any] = {}
        for model in UTXO_MODELS if out.chain.is_utxo else ACCOUNT_MODELS:
            fig: TaintFigures
            if out.chain.is_utxo:
                fig = utxo_taint(out.incident, spec.sources, model=model, stop=stop)
            else:
                fig = account_taint(out.incident, spec.asset, spec.sources, model=model, stop=stop)
            models[model] = fig.to_json()
        result.append(
            {
                "name": spec.name,
                "asset": spec.asset,
                "symbol": spec.symbol,
                "decimals": spec.decimals,
                "sources": spec.sources,
                "models": models,
            }
        )
    return result


def generate(
    kind: str, seed: int | str, out_dir: str | Path, *, transfers: int | None = None
) -> ScenarioManifest:
    """Write scenario ``kind`` for ``seed`` into ``out_dir``; same seed, same bytes.

    ``transfers`` (default 3,000) is the approximate total number of value movements (Bitcoin
    outputs, account-chain transfers) including background traffic, 1,000 to 10,000,000.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown scenario kind {kind!r} (choose one of {', '.join(KINDS)})")
    n = DEFAULT_TRANSFERS if transfers is None else int(transfers)
    if not MIN_TRANSFERS <= n <= MAX_TRANSFERS:
        raise ValueError(f"transfers must be between {MIN_TRANSFERS} and {MAX_TRANSFERS}, not {n}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seed_s = str(seed)
    outputs = [gen(seed_s, out, n * share // 100) for gen, share in KINDS[kind]]

    labels_csv = out / "labels.csv"
    with labels_csv.open("w", newline="", encoding="utf-8") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(["chain", "address", "entity", "category", "source", "confidence"])
        for o in outputs:
            for row in o.labels:
                wr.writerow(row.csv_row())

    manifest = ScenarioManifest(
        kind=kind,
        seed=seed_s,
        out_dir=out,
        inputs=[ChainInputs(o.chain, o.fmt, [out / p for p in o.paths]) for o in outputs],
        labels_csv=labels_csv,
        ground_truth=out / "ground_truth.json",
    )
    chains: dict[str, Any] = {}
    for o in outputs:
        stop = {row.address for row in o.labels}
        figures = reference_figures(o, stop)
        manifest.counts[o.chain.value] = dict(o.counts)
        manifest.figures[o.chain.value] = figures
        chains[o.chain.value] = {
            "inputs": {"format": o.fmt, "paths": o.paths},
            "counts": o.counts,
            "labeled_endpoints": [
                {"address": r.address, "entity": r.entity, "category": r.category} for r in o.labels
            ],
            **o.facts,
            "incident_transactions": [t.hash for t in o.incident],
            "traces": figures,
        }
    truth = {
        "kind": kind,
        "seed": seed_s,
        "transfers_requested": n,
        "synthetic": True,
        "note": (
            "Synthetic incident modelled on public post-mortems; every address, hash and "
            "entity is generated. Figures come from fundtrace.scenarios' own reference "
            "taint models, not from the tracing engine."
        ),
        "models_given": {
            "btc": list(UTXO_MODELS),
            "eth": list(ACCOUNT_MODELS),
            "sol": list(ACCOUNT_MODELS),
        },
        "rounding": ROUNDING_RULES,
        "chains": chains,
    }
    manifest.ground_truth.write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")
    (out / "manifest.json").write_text(json.dumps(manifest.to_json(), indent=1) + "\n")
    return manifest
