"""Realistic synthetic incident scenarios (Bitcoin, Ethereum, Solana) with exact ground truth.

One call writes chain data in the formats the importers read (bitcoin-etl JSON lines,
ethereum-etl CSV, Solana getTransaction JSON lines), a ``labels.csv`` and a
``ground_truth.json`` whose taint figures come from this package's own reference models. The
demo, the tests, the benchmarks and detector evaluation all feed on the same scenarios.
"""

from fundtrace.scenarios.generate import KINDS, ChainInputs, ScenarioManifest, generate
from fundtrace.scenarios.taint_account import account_taint
from fundtrace.scenarios.taint_result import TaintFigures
from fundtrace.scenarios.taint_utxo import utxo_taint

__all__ = [
    "KINDS",
    "ChainInputs",
    "ScenarioManifest",
    "TaintFigures",
    "account_taint",
    "generate",
    "utxo_taint",
]
