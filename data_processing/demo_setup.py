"""Everything ``fundtrace demo`` sets up, step by step, each step idempotent.

A synthetic three-chain incident (``fundtrace.scenarios``) is generated once into the data
directory, imported with the real importers together with real mainnet records and label
lists shipped in ``fundtrace/demo_data``, clustered, opened as a case with the thefts as seeds,
and traced under every taint model through the same code path the API uses.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from data_collection.importing import import_paths
from data_processing.attribution_store import run_clustering
from data_processing.label_store import read_label_file, store_labels
from fundtrace.core.model import Chain

DEMO_DATA = Path(__file__).resolve().parent.parent / "fundtrace" / "demo_data"
SCENARIO_KIND = "incident-3chain"
SCENARIO_SEED = 7
CASE_TITLE = "Demo: exchange hot wallet drained on Bitcoin, Ethereum and Solana"
DEMO_USER = "demo"

MAINNET_SAMPLES = [
    (Chain.BTC, "rpc", ["mainnet/btc/279671.json"]),
    (Chain.ETH, "ethereum-etl", ["mainnet/eth/block_483920"]),
    (Chain.SOL, "rpc", ["mainnet/sol"]),
]
LABEL_FILES = [
    ("labels/etherscan-tornado-cash.csv", "etherscan"),
    ("labels/graphsense-binance.yaml", "tagpack"),
    ("labels/ofac-sanctioned_addresses_ETH.txt", "ofac"),
]


@dataclass
class DemoState:
    scenario_dir: Path
    ground_truth: dict[str, Any]
    log: list[str] = field(default_factory=list)
    password: str | None = None
    case_id: int | None = None


def scenario_dir() -> Path:
    return Path(settings.DATA_DIR) / "demo-scenario"


def generate_scenario(state_log: list[str], *, transfers: int | None = None) -> Path:
    out = scenario_dir()
    if (out / "manifest.json").exists() and (out / "ground_truth.json").exists():
        state_log.append(f"scenario: reusing {out}")
        return out
    from fundtrace.scenarios import generate

    generate(SCENARIO_KIND, SCENARIO_SEED, out, transfers=transfers)
    state_log.append(f"scenario: generated {SCENARIO_KIND} (seed {SCENARIO_SEED}) into {out}")
    return out


def import_everything(out: Path, log: list[str]) -> None:
    manifest = json.loads((out / "manifest.json").read_text())
    for item in manifest["inputs"]:
        chain = Chain(item["chain"])
        paths = [out / p if not Path(p).is_absolute() else Path(p) for p in item["paths"]]
        report = import_paths(chain, item["format"], paths)
        log.append(
            f"import {chain} ({item['format']}): {report.stats.transactions} transactions, "
            f"{report.stats.transfers + report.stats.outputs} movements"
        )
    for chain, fmt, rel in MAINNET_SAMPLES:
        report = import_paths(chain, fmt, [DEMO_DATA / p for p in rel])
        log.append(f"import {chain} mainnet sample: {report.stats.transactions} transactions")
    n = 0
    for rel, fmt in [*LABEL_FILES, (str(out / "labels.csv"), "csv")]:
        path = DEMO_DATA / rel if not Path(rel).is_absolute() else Path(rel)
        result = read_label_file(path, fmt, skip_invalid=True)
        n += store_labels(result.labels)
    log.append(f"labels: {n} stored (scenario + Etherscan, GraphSense, OFAC samples)")
    for chain in Chain:
        run = run_clustering(chain)
        log.append(f"cluster {chain}: {run.addresses} addresses, {run.total_links} links")


def demo_user(log: list[str]) -> tuple[Any, str | None]:
    """The demo investigator; a random password, shown only when the user is created."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=DEMO_USER).first()
    if user is not None:
        return user, None
    password = secrets.token_urlsafe(12)
    fields = {"is_investigator": True, "bio": "Demo investigator"}
    if hasattr(user_model, "role"):
        fields["role"] = "investigator"
    user = user_model.objects.create_user(DEMO_USER, password=password, **fields)
    log.append(f"user: created demo investigator '{DEMO_USER}'")
    return user, password


def open_case(user: Any, gt: dict[str, Any], log: list[str]) -> Any:
    """The demo case with the thefts as seeds, traced under every model (once)."""
    from transaction_tracking import audit
    from transaction_tracking.models import Case, CaseMember, Seed, StolenAmount, TraceRun
    from transaction_tracking.runs import execute_run

    with transaction.atomic():
        case, created = Case.objects.get_or_create(
            title=CASE_TITLE,
            owner=user,
            defaults={
                "description": gt.get("note", ""),
                "chains": sorted(gt["chains"]),
                "status": "active",
            },
        )
        if created:
            CaseMember.objects.get_or_create(case=case, user=user, defaults={"role": "owner"})
            audit.record("case.create", "Case", case.pk, {"title": case.title}, user=user)
            for chain, info in gt["chains"].items():
                for tr in info["traces"][:1]:  # the theft itself; later traces follow swaps
                    total = next(iter(tr["models"].values()))["source_total"]
                    StolenAmount.objects.create(
                        case=case, chain=chain, asset=tr["asset"], amount=int(total),
                        decimals=tr["decimals"],
                    )  # fmt: skip
                for tr in info["traces"]:
                    for src in tr["sources"]:
                        Seed.objects.get_or_create(
                            case=case, chain=chain, kind="output", value=src,
                            defaults={"note": tr["name"]},
                        )  # fmt: skip
    if case.runs.exists():
        log.append(f"case #{case.pk}: reusing its {case.runs.count()} trace runs")
        return case
    for chain, info in gt["chains"].items():
        for tr in info["traces"]:
            for model in sorted(tr["models"]):
                run = TraceRun.objects.create(
                    case=case,
                    chain=chain,
                    asset=tr["asset"],
                    model=model,
                    direction="forward",
                    parameters={"sources": tr["sources"], "asset": tr["asset"], "name": tr["name"]},
                    created_by=user,
                )
                execute_run(run.pk)
    log.append(f"case #{case.pk}: {case.runs.count()} trace runs")
    return case


def case_summary(case: Any) -> dict[str, Any]:
    """Where the funds went, per traced asset and model: by entity, still held, fees."""
    out: dict[str, Any] = {"case": case.pk, "title": case.title, "traces": []}
    for run in case.runs.order_by("chain", "id"):
        doc = run.result or {}
        out["traces"].append(
            {
                "run": run.pk,
                "chain": run.chain,
                "name": run.parameters.get("name"),
                "asset": doc.get("asset", run.asset),
                "decimals": doc.get("decimals"),
                "model": run.model,
                "status": run.status,
                "error": run.error,
                "source_amount": doc.get("source_amount"),
                "by_entity": doc.get("summary", {}).get("by_entity", {}),
                "labeled": {
                    e["address"]: e["amount"]
                    for e in doc.get("endpoints", [])
                    if e["kind"] == "labeled"
                },
                "holding": doc.get("summary", {}).get("holding"),
                "fee": doc.get("summary", {}).get("fee"),
            }
        )
    return out


def run_demo(*, transfers: int | None = None) -> tuple[DemoState, dict[str, Any]]:
    log: list[str] = []
    out = generate_scenario(log, transfers=transfers)
    gt = json.loads((out / "ground_truth.json").read_text())
    state = DemoState(out, gt, log)
    import_everything(out, log)
    user, state.password = demo_user(log)
    case = open_case(user, gt, log)
    state.case_id = case.pk
    return state, case_summary(case)
