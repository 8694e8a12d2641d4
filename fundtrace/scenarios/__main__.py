"""``python -m fundtrace.scenarios generate --kind NAME --seed S --out DIR [--transfers N]``."""

from __future__ import annotations

import argparse
import sys

from fundtrace.scenarios.generate import KINDS, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fundtrace.scenarios")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="write a scenario's data, labels and ground truth")
    g.add_argument("--kind", required=True, choices=sorted(KINDS))
    g.add_argument("--seed", required=True)
    g.add_argument("--out", required=True)
    g.add_argument("--transfers", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        m = generate(args.kind, args.seed, args.out, transfers=args.transfers)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for i in m.inputs:
        print(f"{i.chain.value}: {len(i.paths)} {i.fmt} shard(s), {m.counts[i.chain.value]}")
    print(f"labels: {m.labels_csv}")
    print(f"ground truth: {m.ground_truth}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
