"""Addresses of the Solana programs whose instructions move value that fundtrace follows.

Only these programs are decoded: every other program moves lamports or tokens by invoking them
(a CPI shows up as an inner instruction of the System or Token program), so decoding the two
families is enough to see every system transfer and every token transfer the runtime executed.
"""

from __future__ import annotations

SYSTEM_PROGRAM = "11111111111111111111111111111111"
TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
ASSOCIATED_TOKEN_PROGRAM = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"
COMPUTE_BUDGET_PROGRAM = "ComputeBudget111111111111111111111111111111"
VOTE_PROGRAM = "Vote111111111111111111111111111111111111111"

WSOL_MINT = "So11111111111111111111111111111111111111112"
"""Wrapped SOL: its token amounts are lamports held by the token account (synced or closed)."""

TOKEN_PROGRAMS = frozenset({TOKEN_PROGRAM, TOKEN_2022_PROGRAM})
DECODED_PROGRAMS = frozenset({SYSTEM_PROGRAM, TOKEN_PROGRAM, TOKEN_2022_PROGRAM})
