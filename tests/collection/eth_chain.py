"""Generate real Ethereum activity on an anvil node: ETH, ERC-20, reverts, internal calls."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from fundtrace.clients.ethereum import EthereumRpc
from tests.collection.solc import compile_contracts, encode_args, encode_call

ETH = 10**18


def wait_receipt(client: EthereumRpc, tx_hash: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while (receipt := client.get_transaction_receipt(tx_hash)) is None:
        assert time.monotonic() < deadline, f"{tx_hash} not mined"
        time.sleep(0.01)
    return receipt


def send(client: EthereumRpc, **tx: object) -> dict:
    fields = {k: hex(v) if isinstance(v, int) else v for k, v in tx.items()}
    tx_hash = client.rpc.call("eth_sendTransaction", [fields])
    return wait_receipt(client, tx_hash)


@dataclass
class Activity:
    accounts: list[str]
    token: str
    forwarder: str
    receipts: dict[str, dict] = field(default_factory=dict)
    """label -> receipt of every transaction the test made."""


def make_activity(client: EthereumRpc, bytecode: dict[str, str] | None = None) -> Activity:
    code = bytecode or compile_contracts()
    a, b, c, d = client.rpc.call("eth_accounts")[:4]
    receipts: dict[str, dict] = {}
    supply = 1_000_000 * 10**6
    receipts["deploy_token"] = send(
        client, **{"from": a, "data": code["Token"] + encode_args(["uint256"], supply)}
    )
    token = receipts["deploy_token"]["contractAddress"]
    receipts["eth_a_b"] = send(client, **{"from": a, "to": b, "value": 3 * ETH // 2})
    receipts["token_a_b"] = send(
        client,
        **{"from": a, "to": token, "data": encode_call("transfer(address,uint256)", b, 1000)},
    )
    receipts["token_b_c"] = send(
        client, **{"from": b, "to": token, "data": encode_call("transfer(address,uint256)", c, 250)}
    )
    receipts["token_revert"] = send(
        client,
        **{
            "from": c,
            "to": token,
            "gas": 100_000,
            "data": encode_call("transfer(address,uint256)", d, 10**30),
        },
    )
    receipts["deploy_forwarder"] = send(client, **{"from": a, "data": code["Forwarder"]})
    forwarder = receipts["deploy_forwarder"]["contractAddress"]
    receipts["internal"] = send(
        client,
        **{
            "from": a,
            "to": forwarder,
            "value": 7 * ETH // 10,
            "data": encode_call("forward(address,address)", c, d),
        },
    )
    receipts["internal_revert"] = send(
        client,
        **{
            "from": b,
            "to": forwarder,
            "value": ETH,
            "gas": 100_000,
            "data": encode_call("forwardThenRevert(address)", d),
        },
    )
    receipts["eth_d_a"] = send(client, **{"from": d, "to": a, "value": 12345})
    return Activity([a, b, c, d], token.lower(), forwarder.lower(), receipts)
