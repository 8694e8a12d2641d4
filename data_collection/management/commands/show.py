"""``fundtrace show tx|address``: what the database holds, exactly as stored."""

from __future__ import annotations

import json
from typing import Any

from config.commands import FundtraceCommand
from data_collection.queries import address_document, transaction_document
from fundtrace.core.model import Chain


class Command(FundtraceCommand):
    help = "Print a stored transaction or an address's movements and balances"

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        tx = sub.add_parser("tx", help="a stored transaction")
        addr = sub.add_parser("address", help="an address's stored movements and balance")
        for p, name in ((tx, "hash"), (addr, "address")):
            p.add_argument("--chain", required=True, choices=[c.value for c in Chain])
            p.add_argument("--format", choices=["json", "table"], default="table")
            p.add_argument(name)
            p.error = parser.error
        addr.add_argument("--limit", type=int, default=1000, help="movements to list")

    def handle(self, *args: Any, **options: Any) -> None:
        chain = Chain(options["chain"])
        if options["what"] == "tx":
            doc = transaction_document(chain, options["hash"])
            render = _tx_table
        else:
            doc = address_document(chain, options["address"], limit=options["limit"])
            render = _address_table
        if options["format"] == "json":
            self.stdout.write(json.dumps(doc, indent=2))
        else:
            self.stdout.write(render(doc))


def _rows(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[("" if c is None else str(c)) for c in r] for r in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(out)


def _tx_table(doc: dict[str, Any]) -> str:
    head = [
        f"{doc['chain']} transaction {doc['hash']}",
        f"block {doc['block_number']}  time {doc['timestamp']}  "
        f"status {doc['status']}  fee {doc['fee']}",
    ]
    if "outputs" in doc:
        head += [
            "",
            "inputs:",
            _rows(
                ["txid", "vout", "address", "value"],
                [
                    [i["txid"] or "(coinbase)", i["vout"], i["address"], i["value"]]
                    for i in doc["inputs"]
                ],
            ),
        ]
        head += [
            "",
            "outputs:",
            _rows(
                ["index", "address", "value", "script_type"],
                [[o["index"], o["address"], o["value"], o["script_type"]] for o in doc["outputs"]],
            ),
        ]
    else:
        head += [
            "",
            "transfers:",
            _rows(
                ["index", "kind", "asset", "from", "to", "amount"],
                [
                    [t["index"], t["kind"], t["asset"], t["from"], t["to"], t["amount"]]
                    for t in doc["transfers"]
                ],
            ),
        ]
    return "\n".join(head)


def _address_table(doc: dict[str, Any]) -> str:
    out = [f"{doc['chain']} address {doc['address']}", "", "balances (base units):"]
    out.append(
        _rows(
            ["asset", "decimals", "balance"],
            [[b["asset"], b["decimals"], b["balance"]] for b in doc["balances"]],
        )
    )
    out += ["", f"movements ({doc['count']}):"]
    out.append(
        _rows(
            ["block", "tx", "direction", "asset", "amount", "counterparty"],
            [
                [
                    r["block_number"],
                    r["tx"],
                    r["direction"],
                    r["asset"],
                    r["amount"],
                    r["counterparty"]
                    or " ".join(str(x) for x in (r["kind"], r["index"]) if x is not None),
                ]
                for r in doc["movements"]
            ],
        )
    )
    out += [f"warning: {w}" for w in doc["warnings"]]
    return "\n".join(out)
