"""``fundtrace collect``: pull blocks or address histories from nodes and indexers.

Two modes: a block range (``--from-block``/``--to-block``, slots on Solana) from a node's
JSON-RPC, or address-first (``--address``/``--depth``) through the indexer endpoints. Both
store what they fetch batch by batch with a checkpoint, so an interrupted run resumes when the
same command is run again. Endpoint URLs may come from the environment
(``FUNDTRACE_{BTC,ETH,SOL}_RPC_URL``, ``FUNDTRACE_BTC_ESPLORA_URL``, ``FUNDTRACE_ETHERSCAN_URL``
with ``FUNDTRACE_ETHERSCAN_API_KEY``) so keys stay out of shell history; every message shows
them redacted.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tqdm import tqdm

from config.commands import FundtraceCommand
from data_collection.collector import DjangoCollectionStore
from fundtrace.collection.block_range import RangeCollector
from fundtrace.collection.endpoints import (
    address_source,
    block_fetcher,
    parse_since,
)
from fundtrace.core.errors import FundtraceError
from fundtrace.core.model import Chain


class Command(FundtraceCommand):
    help = "Collect a block range from a node, or follow an address's transfers via indexers"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--chain", required=True, choices=[c.value for c in Chain])
        parser.add_argument(
            "--rpc-url", help="node JSON-RPC URL (default: $FUNDTRACE_<CHAIN>_RPC_URL)"
        )
        parser.add_argument(
            "--network",
            default="mainnet",
            help="Bitcoin address parameters: mainnet, testnet, regtest, litecoin-regtest",
        )
        rng = parser.add_argument_group("block range")
        rng.add_argument("--from-block", type=int, help="first block (slot on Solana)")
        rng.add_argument("--to-block", type=int, help="last block, inclusive (default: the tip)")
        rng.add_argument("--batch-blocks", type=int, help="blocks stored per transaction")
        rng.add_argument(
            "--finality-depth",
            type=int,
            help="blocks re-checked for re-orgs on resume (default btc 6, eth 64, sol 32)",
        )
        adr = parser.add_argument_group("address-first")
        adr.add_argument("--address", action="append", help="start address (repeatable)")
        adr.add_argument("--depth", type=int, default=1, help="hops to follow (default 1)")
        adr.add_argument("--direction", choices=["forward", "backward"], default="forward")
        adr.add_argument("--since", help="only transactions at/after this time (ISO or unix)")
        adr.add_argument("--max-addresses", type=int, default=100)
        adr.add_argument(
            "--max-txs-per-address",
            type=int,
            default=1000,
            help="history cap per address (busy services would otherwise swamp the walk)",
        )
        adr.add_argument(
            "--esplora-url", help="Bitcoin Esplora URL (default: $FUNDTRACE_BTC_ESPLORA_URL)"
        )
        adr.add_argument(
            "--etherscan-url",
            help="Etherscan-compatible API URL (default: $FUNDTRACE_ETHERSCAN_URL or Etherscan; "
            "key from $FUNDTRACE_ETHERSCAN_API_KEY)",
        )
        parser.add_argument(
            "--resume",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="continue from the job's checkpoint (default on)",
        )
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
        parser.add_argument("--max-retries", type=int, default=5)
        parser.add_argument("--rate-limit", type=float, help="requests per second")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        chain = Chain(options["chain"])
        if options["address"]:
            if options["from_block"] is not None or options["to_block"] is not None:
                raise FundtraceError("use either --address or --from-block/--to-block, not both")
            self._addresses(chain, options)
        elif options["from_block"] is None:
            raise FundtraceError("give --from-block (and --to-block) or --address")
        else:
            self._range(chain, options)

    def _http(self, options: dict[str, Any]) -> dict[str, Any]:
        from fundtrace.clients.retry import RetryPolicy

        http: dict[str, Any] = {
            "timeout": options["timeout"],
            "retry": RetryPolicy(max_retries=options["max_retries"]),
        }
        if options["rate_limit"]:
            http["rate_limit"] = options["rate_limit"]
        return http

    def _bar(self, options: dict[str, Any], unit: str) -> tqdm:
        show = not options["no_progress"] and sys.stderr.isatty()
        return tqdm(unit=unit, disable=not show, file=sys.stderr, dynamic_ncols=True)

    def _warn(self, warnings: list[str]) -> None:
        for w in warnings[:10]:
            self.stderr.write(f"warning: {w}")
        if len(warnings) > 10:
            self.stderr.write(f"warning: ... and {len(warnings) - 10} more warnings")

    def _range(self, chain: Chain, options: dict[str, Any]) -> None:
        fetcher = block_fetcher(
            chain, options["rpc_url"], network=options["network"], http=self._http(options)
        )
        store = DjangoCollectionStore(endpoint=fetcher.url)
        unit = "slot" if chain is Chain.SOL else "block"
        with self._bar(options, unit) as bar:

            def plan(first: int, end: int) -> None:
                bar.reset(total=max(0, end - first + 1))

            collector = RangeCollector(
                fetcher,
                store,
                start=options["from_block"],
                end=options["to_block"],
                batch_blocks=options["batch_blocks"],
                finality_depth=options["finality_depth"],
                resume=options["resume"],
                progress=bar.update,
            )
            collector.on_plan = plan
            try:
                summary = collector.run()
            finally:
                fetcher.close()
        self._warn(summary.warnings)
        self.stdout.write(summary.line())

    def _addresses(self, chain: Chain, options: dict[str, Any]) -> None:
        from fundtrace.collection.address_first import AddressWalker

        source = address_source(
            chain,
            rpc_url=options["rpc_url"],
            esplora_url=options["esplora_url"],
            etherscan_url=options["etherscan_url"],
            network=options["network"],
            http=self._http(options),
            max_txs=options["max_txs_per_address"],
        )
        store = DjangoCollectionStore(endpoint=source.url)
        with self._bar(options, "addr") as bar:
            walker = AddressWalker(
                source,
                store,
                seeds=options["address"],
                depth=options["depth"],
                direction=options["direction"],
                since=parse_since(options["since"]),
                max_addresses=options["max_addresses"],
                resume=options["resume"],
                progress=bar.update,
            )
            walker.on_plan = lambda total: bar.reset(total=total)
            try:
                summary = walker.run()
            finally:
                source.close()
        self._warn(summary.warnings)
        self.stdout.write(summary.line())
