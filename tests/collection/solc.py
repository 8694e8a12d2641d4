"""Compile the test contracts with solc-js (npm ``solc``, installed under ``.tools``).

Install once with ``npm install --prefix .tools solc@0.8.26``. Compiling in the test, rather
than pasting bytecode, keeps the contracts readable and the bytecode honest.
"""

from __future__ import annotations

import json
import shutil
import subprocess

from fundtrace.clients.nodes import REPO

SOLC_JS = REPO / ".tools" / "node_modules" / "solc"

SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;

contract Token {
    string public name = "Test Token";
    string public symbol = "TST";
    uint8 public decimals = 6;
    mapping(address => uint256) public balanceOf;
    event Transfer(address indexed from, address indexed to, uint256 value);

    constructor(uint256 supply) {
        balanceOf[msg.sender] = supply;
        emit Transfer(address(0), msg.sender, supply);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        require(balanceOf[msg.sender] >= value, "balance");
        balanceOf[msg.sender] -= value;
        balanceOf[to] += value;
        emit Transfer(msg.sender, to, value);
        return true;
    }
}

contract Forwarder {
    function forward(address payable a, address payable b) external payable {
        uint256 half = msg.value / 2;
        a.transfer(half);
        b.transfer(msg.value - half);
    }

    function forwardThenRevert(address payable a) external payable {
        a.transfer(msg.value);
        revert("no");
    }
}
"""

_DRIVER = """
const solc = require(process.argv[1]);
const source = require('fs').readFileSync(0, 'utf8');
const input = {language: 'Solidity', sources: {'T.sol': {content: source}},
  settings: {outputSelection: {'*': {'*': ['abi', 'evm.bytecode.object']}}}};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors || []).filter(e => e.severity === 'error');
if (errors.length) {
  console.error(errors.map(e => e.formattedMessage).join('\\n'));
  process.exit(1);
}
const result = {};
for (const [name, c] of Object.entries(out.contracts['T.sol'])) {
  result[name] = '0x' + c.evm.bytecode.object;
}
console.log(JSON.stringify(result));
"""


def available() -> bool:
    return SOLC_JS.is_dir() and shutil.which("node") is not None


def compile_contracts() -> dict[str, str]:
    """Contract name -> creation bytecode (0x-hex)."""
    done = subprocess.run(
        ["node", "-e", _DRIVER, str(SOLC_JS)],
        input=SOURCE,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"solc-js failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def selector(signature: str) -> str:
    from eth_utils import keccak

    return "0x" + keccak(text=signature)[:4].hex()


def encode_call(signature: str, *args: object) -> str:
    from eth_abi import encode

    types = signature[signature.index("(") + 1 : -1].split(",") if "()" not in signature else []
    return selector(signature) + encode(types, list(args)).hex()


def encode_args(types: list[str], *args: object) -> str:
    from eth_abi import encode

    return encode(types, list(args)).hex()
