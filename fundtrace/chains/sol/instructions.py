"""Decoding of the System and SPL Token instructions that move value, in every RPC encoding.

A node returns the same instruction either pre-decoded (``jsonParsed``: a ``parsed`` object) or
as program id + account list + data bytes (``json``/``base64``, and ``jsonParsed`` whenever the
node's parser did not recognise the instruction). Both roads end in the same three records, so a
transaction means the same thing whichever encoding the collector asked for:

* ``LamportMove`` - lamports debited from one account and credited to another by the System
  program (transfer, transferWithSeed, createAccount(WithSeed), withdrawNonceAccount, ...);
* ``TokenMove`` - SPL Token / Token-2022 transfer, mint or burn between *token accounts*
  (owners are resolved later, from the transaction's token balances);
* ``TokenAccountInit`` - initializeAccount(2/3), which tells the mint and owner of a token
  account that may exist only inside this transaction (created and closed again);
* ``TokenAccountClose`` - closeAccount, which hands the account's lamports (rent, and for
  wrapped SOL the wrapped amount) to a destination.

The byte layouts are the programs' own: System instructions are bincode (u32 LE discriminator,
u64 LE lamports, strings as u64 length + bytes), Token instructions a u8 discriminator followed
by packed little-endian fields.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fundtrace.chains.sol.programs import SYSTEM_PROGRAM, TOKEN_2022_PROGRAM, TOKEN_PROGRAMS
from fundtrace.core.errors import ParseError

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_U64_U8 = struct.Struct("<QB")
_U64_U8_U64 = struct.Struct("<QBQ")


@dataclass(frozen=True, slots=True)
class Instruction:
    """One instruction of a transaction with its place in execution order.

    ``ordinal`` counts outer and inner instructions together (outer 0, its inner ones, outer 1,
    ...) and becomes the canonical ``Transfer.index``; ``field`` is the JSON path it came from,
    so a decoding error points at the exact instruction in the user's file.
    """

    ordinal: int
    outer: int
    inner: int | None
    program_id: str
    accounts: tuple[str, ...]
    data: bytes | None = None
    parsed: Mapping[str, object] | None = None
    field: str = ""

    @property
    def is_inner(self) -> bool:
        return self.inner is not None

    @property
    def trace_address(self) -> str:
        return str(self.outer) if self.inner is None else f"{self.outer}.{self.inner}"


@dataclass(frozen=True, slots=True)
class LamportMove:
    source: str
    destination: str
    lamports: int
    instruction: str


@dataclass(frozen=True, slots=True)
class TokenMove:
    """Token movement between token accounts: ``source`` None is a mint, ``destination`` None
    a burn.

    ``fee`` is the Token-2022 transfer fee withheld in the destination account: the destination's
    spendable balance grows by ``amount - fee``.
    """

    program_id: str
    instruction: str
    source: str | None
    destination: str | None
    amount: int
    mint: str | None = None
    decimals: int | None = None
    authority: str | None = None
    fee: int = 0


@dataclass(frozen=True, slots=True)
class TokenAccountClose:
    """closeAccount: all lamports of ``account`` go to ``destination``; the amount is not in the
    instruction and is worked out from the account's balance by the caller."""

    account: str
    destination: str
    program_id: str


@dataclass(frozen=True, slots=True)
class TokenAccountInit:
    account: str
    mint: str
    owner: str
    program_id: str


Decoded = LamportMove | TokenMove | TokenAccountInit | TokenAccountClose


class _Bad(Exception):
    """Internal: the instruction is for a known program but its content is malformed."""


def decode_instruction(
    ix: Instruction, *, source: str | None = None, record: int | str | None = None
) -> Decoded | None:
    """The value-moving meaning of ``ix``, or None when it moves no value fundtrace follows."""
    try:
        if ix.parsed is not None:
            return decode_parsed(ix.program_id, ix.parsed)
        if ix.data is not None:
            return decode_raw(ix.program_id, ix.accounts, ix.data)
        return None
    except _Bad as exc:
        raise ParseError(str(exc), source=source, record=record, field=ix.field or None) from None


# --- raw (program id + accounts + data bytes) -------------------------------------------------


def decode_raw(program_id: str, accounts: Sequence[str], data: bytes) -> Decoded | None:
    """Decode a System / Token instruction from its wire bytes; other programs give None."""
    if program_id == SYSTEM_PROGRAM:
        return _decode_system_raw(accounts, data)
    if program_id in TOKEN_PROGRAMS:
        return _decode_token_raw(program_id, accounts, data)
    return None


def _account(accounts: Sequence[str], i: int, what: str, name: str) -> str:
    if i >= len(accounts):
        raise _Bad(f"{what}: needs account #{i} ({name}) but has {len(accounts)} accounts")
    return accounts[i]


def _unpack(fmt: struct.Struct, data: bytes, offset: int, what: str) -> tuple[int, ...]:
    if len(data) < offset + fmt.size:
        raise _Bad(f"{what}: data is {len(data)} bytes, too short for its layout")
    return fmt.unpack_from(data, offset)


def _pubkey(data: bytes, offset: int, what: str) -> str:
    if len(data) < offset + 32:
        raise _Bad(f"{what}: data is {len(data)} bytes, too short for a 32-byte public key")
    return _b58encode(data[offset : offset + 32])


def _decode_system_raw(accounts: Sequence[str], data: bytes) -> Decoded | None:
    if len(data) < 4:
        return None  # not a System instruction the runtime would have executed
    (disc,) = _U32.unpack_from(data, 0)
    if disc == 2:  # Transfer { lamports }
        (lamports,) = _unpack(_U64, data, 4, "system transfer")
        src = _account(accounts, 0, "system transfer", "from")
        dst = _account(accounts, 1, "system transfer", "to")
        return LamportMove(src, dst, lamports, "transfer")
    if disc == 0:  # CreateAccount { lamports, space, owner }
        (lamports,) = _unpack(_U64, data, 4, "system createAccount")
        src = _account(accounts, 0, "system createAccount", "funding")
        dst = _account(accounts, 1, "system createAccount", "new account")
        return LamportMove(src, dst, lamports, "createAccount")
    if disc == 3:  # CreateAccountWithSeed { base, seed: String, lamports, space, owner }
        (seed_len,) = _unpack(_U64, data, 36, "system createAccountWithSeed")
        (lamports,) = _unpack(_U64, data, 44 + seed_len, "system createAccountWithSeed")
        src = _account(accounts, 0, "system createAccountWithSeed", "funding")
        dst = _account(accounts, 1, "system createAccountWithSeed", "new account")
        return LamportMove(src, dst, lamports, "createAccountWithSeed")
    if disc == 5:  # WithdrawNonceAccount(lamports)
        (lamports,) = _unpack(_U64, data, 4, "system withdrawNonceAccount")
        src = _account(accounts, 0, "system withdrawNonceAccount", "nonce account")
        dst = _account(accounts, 1, "system withdrawNonceAccount", "recipient")
        return LamportMove(src, dst, lamports, "withdrawNonceAccount")
    if disc == 11:  # TransferWithSeed { lamports, from_seed, from_owner }
        (lamports,) = _unpack(_U64, data, 4, "system transferWithSeed")
        src = _account(accounts, 0, "system transferWithSeed", "from")
        dst = _account(accounts, 2, "system transferWithSeed", "to")
        return LamportMove(src, dst, lamports, "transferWithSeed")
    if disc == 13:  # CreateAccountAllowPrefund { lamports, space, owner }; payer optional
        (lamports,) = _unpack(_U64, data, 4, "system createAccountAllowPrefund")
        dst = _account(accounts, 0, "system createAccountAllowPrefund", "new account")
        if len(accounts) < 2:
            return None  # prefunded without a payer: no lamports move in this instruction
        return LamportMove(accounts[1], dst, lamports, "createAccountAllowPrefund")
    return None


def _decode_token_raw(program_id: str, accounts: Sequence[str], data: bytes) -> Decoded | None:
    if not data:
        return None
    disc = data[0]
    if disc == 3:  # Transfer { amount }
        (amount,) = _unpack(_U64, data, 1, "token transfer")
        return TokenMove(
            program_id,
            "transfer",
            _account(accounts, 0, "token transfer", "source"),
            _account(accounts, 1, "token transfer", "destination"),
            amount,
            authority=_account(accounts, 2, "token transfer", "authority"),
        )
    if disc == 12:  # TransferChecked { amount, decimals }
        amount, decimals = _unpack(_U64_U8, data, 1, "token transferChecked")
        return TokenMove(
            program_id,
            "transferChecked",
            _account(accounts, 0, "token transferChecked", "source"),
            _account(accounts, 2, "token transferChecked", "destination"),
            amount,
            mint=_account(accounts, 1, "token transferChecked", "mint"),
            decimals=decimals,
            authority=_account(accounts, 3, "token transferChecked", "authority"),
        )
    if disc in (7, 14):  # MintTo { amount } / MintToChecked { amount, decimals }
        name = "mintTo" if disc == 7 else "mintToChecked"
        if disc == 7:
            (amount,), decimals = _unpack(_U64, data, 1, f"token {name}"), None
        else:
            amount, decimals = _unpack(_U64_U8, data, 1, f"token {name}")
        return TokenMove(
            program_id,
            name,
            None,
            _account(accounts, 1, f"token {name}", "account"),
            amount,
            mint=_account(accounts, 0, f"token {name}", "mint"),
            decimals=decimals,
            authority=_account(accounts, 2, f"token {name}", "mint authority"),
        )
    if disc in (8, 15):  # Burn { amount } / BurnChecked { amount, decimals }
        name = "burn" if disc == 8 else "burnChecked"
        if disc == 8:
            (amount,), decimals = _unpack(_U64, data, 1, f"token {name}"), None
        else:
            amount, decimals = _unpack(_U64_U8, data, 1, f"token {name}")
        return TokenMove(
            program_id,
            name,
            _account(accounts, 0, f"token {name}", "account"),
            None,
            amount,
            mint=_account(accounts, 1, f"token {name}", "mint"),
            decimals=decimals,
            authority=_account(accounts, 2, f"token {name}", "authority"),
        )
    if disc == 9:  # CloseAccount: accounts [account, destination, owner]
        return TokenAccountClose(
            _account(accounts, 0, "token closeAccount", "account"),
            _account(accounts, 1, "token closeAccount", "destination"),
            program_id,
        )
    if disc == 1:  # InitializeAccount: accounts [account, mint, owner, rent]
        return TokenAccountInit(
            _account(accounts, 0, "token initializeAccount", "account"),
            _account(accounts, 1, "token initializeAccount", "mint"),
            _account(accounts, 2, "token initializeAccount", "owner"),
            program_id,
        )
    if disc in (16, 18):  # InitializeAccount2/3 { owner }
        name = "initializeAccount2" if disc == 16 else "initializeAccount3"
        return TokenAccountInit(
            _account(accounts, 0, f"token {name}", "account"),
            _account(accounts, 1, f"token {name}", "mint"),
            _pubkey(data, 1, f"token {name}"),
            program_id,
        )
    if disc == 26 and program_id == TOKEN_2022_PROGRAM and len(data) > 1 and data[1] == 1:
        # TransferFeeExtension::TransferCheckedWithFee { amount, decimals, fee }
        amount, decimals, fee = _unpack(_U64_U8_U64, data, 2, "token transferCheckedWithFee")
        return TokenMove(
            program_id,
            "transferCheckedWithFee",
            _account(accounts, 0, "token transferCheckedWithFee", "source"),
            _account(accounts, 2, "token transferCheckedWithFee", "destination"),
            amount,
            mint=_account(accounts, 1, "token transferCheckedWithFee", "mint"),
            decimals=decimals,
            authority=_account(accounts, 3, "token transferCheckedWithFee", "authority"),
            fee=fee,
        )
    return None


# --- jsonParsed ------------------------------------------------------------------------------


def decode_parsed(program_id: str, parsed: Mapping[str, object]) -> Decoded | None:
    """Decode a jsonParsed ``parsed`` object ({"type": ..., "info": {...}})."""
    if program_id != SYSTEM_PROGRAM and program_id not in TOKEN_PROGRAMS:
        return None
    if not isinstance(parsed, Mapping):
        return None  # some programs (memo) give a plain string
    kind = parsed.get("type")
    info = parsed.get("info")
    if not isinstance(kind, str) or not isinstance(info, Mapping):
        raise _Bad("parsed instruction without 'type' and 'info'")
    if program_id == SYSTEM_PROGRAM:
        return _decode_system_parsed(kind, info)
    return _decode_token_parsed(program_id, kind, info)


_SYSTEM_PARSED = {
    # type: (source key, destination key)
    "transfer": ("source", "destination"),
    "transferWithSeed": ("source", "destination"),
    "createAccount": ("source", "newAccount"),
    "createAccountWithSeed": ("source", "newAccount"),
    "withdrawFromNonce": ("nonceAccount", "destination"),
}


def _decode_system_parsed(kind: str, info: Mapping[str, object]) -> Decoded | None:
    keys = _SYSTEM_PARSED.get(kind)
    if keys is None:
        return None
    src = _str(info, keys[0], kind)
    dst = _str(info, keys[1], kind)
    lamports = _int(info.get("lamports"), f"{kind} lamports")
    name = "withdrawNonceAccount" if kind == "withdrawFromNonce" else kind
    return LamportMove(src, dst, lamports, name)


def _decode_token_parsed(program_id: str, kind: str, info: Mapping[str, object]) -> Decoded | None:
    if kind in ("transfer", "transferChecked", "transferCheckedWithFee"):
        amount, decimals = _token_amount(info, kind)
        fee = 0
        if kind == "transferCheckedWithFee":
            fee_obj = info.get("feeAmount")
            if not isinstance(fee_obj, Mapping):
                raise _Bad(f"{kind}: 'feeAmount' missing")
            fee = _int(fee_obj.get("amount"), f"{kind} feeAmount.amount")
        return TokenMove(
            program_id,
            kind,
            _str(info, "source", kind),
            _str(info, "destination", kind),
            amount,
            mint=_opt_str(info, "mint"),
            decimals=decimals,
            authority=_opt_str(info, "authority") or _opt_str(info, "multisigAuthority"),
            fee=fee,
        )
    if kind in ("mintTo", "mintToChecked"):
        amount, decimals = _token_amount(info, kind)
        return TokenMove(
            program_id,
            kind,
            None,
            _str(info, "account", kind),
            amount,
            mint=_str(info, "mint", kind),
            decimals=decimals,
            authority=_opt_str(info, "mintAuthority") or _opt_str(info, "multisigMintAuthority"),
        )
    if kind in ("burn", "burnChecked"):
        amount, decimals = _token_amount(info, kind)
        return TokenMove(
            program_id,
            kind,
            _str(info, "account", kind),
            None,
            amount,
            mint=_str(info, "mint", kind),
            decimals=decimals,
            authority=_opt_str(info, "authority") or _opt_str(info, "multisigAuthority"),
        )
    if kind == "closeAccount":
        return TokenAccountClose(
            _str(info, "account", kind), _str(info, "destination", kind), program_id
        )
    if kind in ("initializeAccount", "initializeAccount2", "initializeAccount3"):
        return TokenAccountInit(
            _str(info, "account", kind),
            _str(info, "mint", kind),
            _str(info, "owner", kind),
            program_id,
        )
    return None


def _token_amount(info: Mapping[str, object], kind: str) -> tuple[int, int | None]:
    """``amount`` (unchecked forms) or ``tokenAmount.amount`` + ``decimals`` (checked forms)."""
    ta = info.get("tokenAmount")
    if isinstance(ta, Mapping):
        return _int(ta.get("amount"), f"{kind} tokenAmount.amount"), _opt_int(
            ta.get("decimals"), f"{kind} tokenAmount.decimals"
        )
    if "amount" in info:
        return _int(info.get("amount"), f"{kind} amount"), None
    raise _Bad(f"{kind}: neither 'amount' nor 'tokenAmount' present")


def _str(info: Mapping[str, object], key: str, kind: str) -> str:
    v = info.get(key)
    if not isinstance(v, str) or not v:
        raise _Bad(f"{kind}: '{key}' missing or not an address")
    return v


def _opt_str(info: Mapping[str, object], key: str) -> str | None:
    v = info.get(key)
    return v if isinstance(v, str) and v else None


def _int(v: object, what: str) -> int:
    """Amounts are JSON integers (lamports) or decimal strings (token amounts, may exceed 2**53)."""
    if isinstance(v, bool):
        raise _Bad(f"{what} is a boolean")
    if isinstance(v, int):
        if v < 0:
            raise _Bad(f"{what} is negative")
        return v
    if isinstance(v, str) and v.isascii() and v.isdigit():
        return int(v)
    raise _Bad(f"{what} {v!r} is not a non-negative integer")


def _opt_int(v: object, what: str) -> int | None:
    return None if v is None else _int(v, what)


# --- base58 ------------------------------------------------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}


def _b58encode(raw: bytes) -> str:
    n = int.from_bytes(raw, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_B58[r])
    pad = len(raw) - len(raw.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Decode base58 (Bitcoin alphabet) as Solana uses it for keys, signatures and json data.

    Raises ValueError on a character outside the alphabet.
    """
    n = 0
    for ch in text:
        try:
            n = n * 58 + _B58_INDEX[ch]
        except KeyError:
            raise ValueError(f"invalid base58 character {ch!r}") from None
    pad = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * pad + body


b58encode = _b58encode


# --- account keys of versioned transactions ---------------------------------------------------


def resolve_account_keys(
    static_keys: Sequence[str], loaded: Mapping[str, object] | None, *, lookups: int
) -> list[str]:
    """The full account list instruction indexes refer to: static keys, then the addresses the
    runtime loaded from lookup tables (all writable ones, then all readonly ones).

    ``lookups`` is how many addresses the message's ``addressTableLookups`` ask for; the RPC
    reports the resolved ones in ``meta.loadedAddresses``, and a mismatch means the indexes
    would point at the wrong accounts, so it is refused (ValueError; callers add the location).
    """
    keys = list(static_keys)
    if loaded is None:
        if lookups:
            raise ValueError(
                f"message uses {lookups} lookup-table addresses but meta.loadedAddresses is absent"
            )
        return keys
    writable = loaded.get("writable") or []
    readonly = loaded.get("readonly") or []
    if not isinstance(writable, list) or not isinstance(readonly, list):
        raise ValueError("loadedAddresses.writable/readonly must be lists")
    if len(writable) + len(readonly) != lookups:
        raise ValueError(
            f"message asks for {lookups} lookup-table addresses, "
            f"meta.loadedAddresses has {len(writable) + len(readonly)}"
        )
    for a in (*writable, *readonly):
        if not isinstance(a, str) or not a:
            raise ValueError(f"loaded address {a!r} is not a base58 string")
    keys.extend(writable)
    keys.extend(readonly)
    return keys
