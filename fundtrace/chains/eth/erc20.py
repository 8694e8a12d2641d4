"""ERC-20 ``Transfer`` logs and token metadata (eth-abi for metadata and as the reference).

Only the exact ERC-20 shape counts as a token movement: topic0 = keccak of
``Transfer(address,address,uint256)``, exactly three topics (two indexed addresses) and 32 bytes
of data (the uint256 amount). The same topic0 is emitted by ERC-721 (tokenId indexed as a fourth
topic, no data) and by pre-standard contracts such as CryptoKitties (nothing indexed, 96 bytes of
data); reading those as fungible amounts would invent balances, so they are reported as skipped
instead (ethereum-etl, for one, does import the ERC-721 ones as token transfers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak

from fundtrace.chains.eth import fields
from fundtrace.chains.eth.records import LogRecord
from fundtrace.core.errors import ParseError
from fundtrace.core.model import Asset, Chain, Transfer, TransferKind

TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
_ZERO_ADDRESS = fields.ZERO_ADDRESS

SKIP_ERC721 = "erc721_transfer_log"
SKIP_NONSTANDARD = "nonstandard_transfer_log"


def coerce_log(log: LogRecord | Mapping) -> LogRecord:
    """Accept a ``LogRecord``, a JSON-RPC log object or an ethereum-etl log row."""
    if isinstance(log, LogRecord):
        return log
    if "logIndex" in log:
        from fundtrace.chains.eth.rpc_records import parse_log

        return parse_log(log)
    if "log_index" in log:
        from fundtrace.chains.eth.etl import log_from_row

        return log_from_row(log)
    raise ParseError("not an Ethereum log (no logIndex / log_index)", field="logIndex")


def transfer_skip_reason(log: LogRecord) -> str | None:
    """Why a Transfer-topic log is not an ERC-20 movement; None if it is one or not a Transfer."""
    topics = log.topics
    if not topics or topics[0] != TRANSFER_TOPIC:
        return None
    if len(topics) == 3 and len(log.data) == 66:
        return None
    if len(topics) == 4 and len(log.data) == 2:
        return SKIP_ERC721
    return SKIP_NONSTANDARD


_ZERO_PAD = "0" * 24
_HEX144 = re.compile("[0-9a-fA-F]{144}").fullmatch


def decode_log(log: LogRecord) -> Transfer | str | None:
    """A Transfer, the skip reason of a Transfer look-alike, or None for any other event.

    The standard shape is decoded directly, which is what the ABI decoder does for it (the
    tests hold eth-abi as the reference on every fixture log and on generated ones): each
    ``address`` topic is 12 zero bytes then the address, and the ``uint256`` is the 32 data
    bytes big-endian.
    """
    topics = log.topics
    if not topics or topics[0] != TRANSFER_TOPIC:
        return None
    data = log.data
    if len(topics) != 3 or len(data) != 66:
        return SKIP_ERC721 if len(topics) == 4 and len(data) == 2 else SKIP_NONSTANDARD
    t1 = topics[1]
    t2 = topics[2]
    if t1[2:26] != _ZERO_PAD or t2[2:26] != _ZERO_PAD:
        # an "address" topic with non-zero high bytes: not the ERC-20 ABI
        return SKIP_NONSTANDARD
    if not _HEX144(t1[26:] + t2[26:] + data[2:]):
        return SKIP_NONSTANDARD  # not hex: what the ABI decoder would refuse too
    from_address = "0x" + t1[26:].lower()
    to_address = "0x" + t2[26:].lower()
    return Transfer(
        log.log_index,
        TransferKind.TOKEN,
        log.address,
        None if from_address == _ZERO_ADDRESS else from_address,
        None if to_address == _ZERO_ADDRESS else to_address,
        int(data, 16),
    )


def decode_transfer_log(log: LogRecord | Mapping) -> Transfer | None:
    """The ERC-20 transfer a log records, or None (other event, ERC-721 or non-standard shape).

    ``Transfer.index`` is the block-wide log index, the canonical key of token transfers.
    """
    result = decode_log(coerce_log(log))
    return result if isinstance(result, Transfer) else None


def _abi_text(result: str | None, what: str) -> str | None:
    """An ``eth_call`` result for name()/symbol(): ABI ``string`` or, on old tokens, ``bytes32``.

    Trailing NUL bytes are padding, not text; an empty result means "not provided".
    """
    if result is None:
        return None
    data = bytes.fromhex(fields.hex_data(result, what)[2:])
    if not data:
        return None
    raw: bytes | None = None
    if len(data) >= 64:
        try:
            (raw,) = abi_decode(["bytes"], data)
        except (DecodingError, ValueError):
            raw = None
    if raw is None:
        raw = data[:32] if len(data) == 32 else None
    if raw is None:
        return None
    text = raw.rstrip(b"\x00").decode("utf-8", errors="replace").replace("\x00", "")
    return text or None


def decode_token_metadata(
    token: str,
    *,
    name: str | None = None,
    symbol: str | None = None,
    decimals: str | None = None,
) -> Asset:
    """An ``Asset`` from the raw hex results of ``name()``, ``symbol()`` and ``decimals()`` calls.

    Metadata is advisory (contracts may return anything), so an undecodable value becomes None
    rather than an error; only a non-hex result is bad input.
    """
    dec: int | None = None
    if decimals is not None:
        data = bytes.fromhex(fields.hex_data(decimals, "decimals")[2:])
        if len(data) == 32:
            (value,) = abi_decode(["uint256"], data)
            dec = value if value <= 255 else None
    return Asset(
        chain=Chain.ETH,
        asset_id=fields.address(token, "token"),
        symbol=_abi_text(symbol, "symbol"),
        decimals=dec,
        name=_abi_text(name, "name"),
    )
