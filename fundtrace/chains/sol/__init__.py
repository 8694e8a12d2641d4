"""Solana adapter: JSON-RPC results (getTransaction, getBlock, getSignaturesForAddress) in
jsonParsed, json, base64 or base58 encoding mapped to the canonical model, with the balance
figures the chain records checked against the decoded transfers."""

from fundtrace.chains.sol.rpc import (
    BLOCK,
    SIGNATURES,
    TRANSACTION,
    SignatureInfo,
    classify,
    parse_block,
    parse_signatures,
    parse_transaction,
    unwrap,
)

__all__ = [
    "BLOCK",
    "SIGNATURES",
    "TRANSACTION",
    "SignatureInfo",
    "classify",
    "parse_block",
    "parse_signatures",
    "parse_transaction",
    "unwrap",
]
