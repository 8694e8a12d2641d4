"""Tracing engine: follow stolen funds forward (where did it go) or backward (where did it come
from) under five UTXO and four account taint models, in compiled sweeps over compact arrays.

Entry points: ``build_utxo_graph`` / ``utxo_graph_from_arrays`` (Bitcoin),
``build_account_ledger`` / ``account_ledger_from_arrays`` (Ethereum, Solana), ``trace``,
``TraceResult.to_json``, ``format_table``, ``explain``. Model definitions live in the
docstrings of ``utxo_kernels`` and ``account_kernels``; direction semantics in ``engine``.
"""

from fundtrace.tracing.account_ledger import (
    KIND_FEE,
    KIND_INTERNAL,
    KIND_NATIVE,
    KIND_TOKEN,
    AccountLedger,
    account_ledger_from_arrays,
    build_account_ledger,
)
from fundtrace.tracing.engine import ACCOUNT_MODELS, UTXO_MODELS, AddressSource, trace
from fundtrace.tracing.result import (
    Endpoint,
    Flow,
    PathStep,
    TraceResult,
    explain,
    format_table,
)
from fundtrace.tracing.utxo_graph import UtxoGraph, build_utxo_graph, utxo_graph_from_arrays

__all__ = [
    "ACCOUNT_MODELS",
    "KIND_FEE",
    "KIND_INTERNAL",
    "KIND_NATIVE",
    "KIND_TOKEN",
    "UTXO_MODELS",
    "AccountLedger",
    "AddressSource",
    "Endpoint",
    "Flow",
    "PathStep",
    "TraceResult",
    "UtxoGraph",
    "account_ledger_from_arrays",
    "build_account_ledger",
    "build_utxo_graph",
    "explain",
    "format_table",
    "trace",
    "utxo_graph_from_arrays",
]
