"""Large scenarios are streamed: shards stay bounded and memory does not grow with the size.

Each size runs in its own interpreter so that its peak resident memory can be read cleanly.
"""

import json
import subprocess
import sys

from tests.paths import REPO

_SCRIPT = """
import json, resource, sys
from fundtrace.scenarios import common, eth, generate
common.SHARD_RECORDS = 2_000
eth.Background.POOL_CAP = 1_000
m = generate("eth-erc20-drain", 5, sys.argv[1], transfers=int(sys.argv[2]))
print(json.dumps({"rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "transfers": m.counts["eth"]["transfers"], "shards": len(m.inputs[0].paths)}))
"""


def _run(tmp_path, n: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path / str(n)), str(n)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_50k_transfers_memory_bounded(tmp_path):
    small = _run(tmp_path, 5_000)
    big = _run(tmp_path, 50_000)
    assert 48_000 <= big["transfers"] <= 52_000
    assert big["shards"] >= 15  # many shards of at most 2,000 transactions each
    # ten times the data, a few MB more at most: nothing accumulates with the size
    assert big["rss_kb"] - small["rss_kb"] < 25_000, (small, big)
