"""``fundtrace labels import|show``: the label store from the command line."""

from __future__ import annotations

import json
from typing import Any

from config.commands import FundtraceCommand
from data_processing.label_store import (
    FORMATS,
    LabelImportError,
    label_json,
    read_label_file,
    store_labels,
    visible_labels,
)
from fundtrace.core.addresses import InvalidAddress, normalize_address
from fundtrace.core.model import Chain


class Command(FundtraceCommand):
    help = "Import label files (CSV, GraphSense TagPack, OFAC SDN, Etherscan lists) or show labels"

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import label files, each all-or-nothing")
        imp.add_argument("files", nargs="+")
        imp.add_argument("--format", required=True, choices=FORMATS)
        imp.add_argument(
            "--skip-invalid",
            action="store_true",
            help="drop rows with invalid addresses (reported) instead of rejecting the file",
        )
        imp.add_argument("--case", type=int, default=None, help="make the labels case-private")
        show = sub.add_parser("show", help="labels of one address")
        show.add_argument("--chain", required=True, choices=[c.value for c in Chain])
        show.add_argument("--format", choices=["json", "table"], default="table")
        show.add_argument("address")
        for p in (imp, show):
            p.error = parser.error

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "import":
            self._import(options)
        else:
            self._show(options)

    def _import(self, options: dict[str, Any]) -> None:
        case_id = str(options["case"]) if options["case"] else None
        results = []
        for path in options["files"]:
            result = read_label_file(
                path, options["format"], skip_invalid=options["skip_invalid"], case_id=case_id
            )
            for err in result.errors:
                self.stderr.write(f"{'error' if result.rejected else 'skipped'}: {err}")
            if result.rejected:
                raise LabelImportError(
                    f"{path}: rejected, nothing stored ({len(result.errors)} bad rows; "
                    "see above, or use --skip-invalid for invalid addresses)"
                )
            results.append(result)
        total = 0
        for result in results:
            n = store_labels(result.labels)
            total += n
            skipped = ", ".join(f"{k}: {v}" for k, v in sorted(result.skipped.items()))
            self.stdout.write(
                f"{result.source}: {n} labels stored"
                + (f" ({len(result.errors)} invalid rows skipped)" if result.errors else "")
                + (f"; not for these chains: {skipped}" if skipped else "")
            )
            for w in result.warnings:
                self.stderr.write(f"warning: {w}")
        self.stdout.write(f"{total} labels stored from {len(results)} files")

    def _show(self, options: dict[str, Any]) -> None:
        chain = Chain(options["chain"])
        try:
            address = normalize_address(chain, options["address"])
        except InvalidAddress as exc:
            raise LabelImportError(f"invalid {chain} address: {exc}") from exc
        labels = [label_json(lbl) for lbl in visible_labels(chain, address)]
        if options["format"] == "json":
            self.stdout.write(json.dumps(labels, indent=2))
            return
        if not labels:
            self.stdout.write(f"no labels for {chain}:{address}")
        for lbl in labels:
            self.stdout.write(
                f"{lbl['entity']}  [{lbl['category']}]  confidence {lbl['confidence']}  "
                f"source {lbl['source']}"
            )
