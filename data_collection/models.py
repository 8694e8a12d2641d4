"""Persistence of the canonical chain model (``fundtrace.core.model``).

Two shapes, as on chain: Bitcoin keeps outputs and the inputs that spend them by ``txid:vout``
(``TxOutput`` / ``TxInput``); Ethereum and Solana keep value movements (``Transfer``).
``BlockchainTransaction`` is the transaction-level view shared by all three chains.

Every table has a natural unique key so that importing the same data twice stores it once:
blocks (chain, number), transactions (chain, hash), outputs and inputs (chain, txid, index),
transfers (chain, tx hash, kind, index). Amounts are exact ``U256Field`` integers in base units.
Key and index columns are ordered most selective first (hash or address, then chain): the
database compares a 64-character hash before a 3-letter chain name that every row shares.

Outputs, inputs and transfers reference their transaction without a database foreign-key
constraint (``db_constraint=False``): referential integrity is the loader's, by construction.
Children are only ever written in the same database transaction as their parent, with the id
the loader reserved for that parent or read back by joining on the natural key, and removed
before it (``collector.rollback_above``; the ORM's ``on_delete`` for everything else). A
per-row foreign-key check cost a quarter of PostgreSQL's load time (a ``SELECT .. FOR KEY
SHARE`` per child row), which kept bulk loads near 70k rows/s; the relations themselves, and
every join and ``on_delete`` rule, are unchanged.
"""

from __future__ import annotations

from django.db import models

from data_collection.fields import U256Field
from fundtrace.core.model import Chain, TransferKind

CHAIN_CHOICES = [(c.value, c.name) for c in Chain]
KIND_CHOICES = [(k.value, k.value) for k in TransferKind]


class Asset(models.Model):
    """A chain's native coin (``asset_id='native'``) or a token (contract / mint)."""

    chain = models.CharField(max_length=8, choices=CHAIN_CHOICES)
    asset_id = models.CharField(max_length=64)
    symbol = models.CharField(max_length=64, blank=True, null=True)
    name = models.CharField(max_length=200, blank=True, null=True)
    decimals = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "asset_id"], name="asset_chain_id_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.chain}:{self.symbol or self.asset_id}"


class Block(models.Model):
    chain = models.CharField(max_length=8, choices=CHAIN_CHOICES)
    number = models.BigIntegerField(help_text="Height (Bitcoin, Ethereum) or slot (Solana)")
    hash = models.CharField(max_length=100)
    parent_hash = models.CharField(max_length=100, blank=True, null=True)
    timestamp = models.DateTimeField(null=True, blank=True)
    tx_count = models.IntegerField(null=True, blank=True)
    miner = models.CharField(max_length=100, blank=True, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "number"], name="block_chain_number_uniq")
        ]
        indexes = [models.Index(fields=["chain", "hash"], name="block_chain_hash_idx")]

    def __str__(self) -> str:
        return f"{self.chain}#{self.number}"


class BlockchainTransaction(models.Model):
    """The transaction-level view of any chain.

    The seed's fields keep a precise meaning on all chains:
    ``from_address`` is who initiated and paid the fee (Ethereum sender, Solana fee payer,
    Bitcoin: the address of input 0, the usual "sender" in explorers); ``to_address`` is the
    Ethereum ``to``, the first Solana transfer's recipient, Bitcoin output 0's address;
    ``amount`` is the native value the transaction moved (Ethereum ``value``, the sum of Bitcoin
    outputs, the sum of Solana native transfers). The exact movements are in ``outputs``,
    ``inputs`` and ``transfers``; this row never replaces them.
    """

    blockchain_network = models.CharField(max_length=8, choices=CHAIN_CHOICES)
    transaction_hash = models.CharField(max_length=100)
    block_number = models.BigIntegerField(null=True, blank=True)
    block_hash = models.CharField(max_length=100, null=True, blank=True)
    tx_index = models.IntegerField(null=True, blank=True)
    timestamp = models.DateTimeField(null=True, blank=True)
    from_address = models.CharField(max_length=100, null=True, blank=True)
    to_address = models.CharField(max_length=100, null=True, blank=True)
    amount = U256Field(null=True, blank=True)
    fee = U256Field(null=True, blank=True)
    success = models.BooleanField(default=True)
    is_coinbase = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["transaction_hash", "blockchain_network"], name="tx_chain_hash_uniq"
            )
        ]
        indexes = [
            models.Index(
                fields=["blockchain_network", "block_number", "tx_index"], name="tx_order_idx"
            ),
            models.Index(fields=["from_address", "blockchain_network"], name="tx_from_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.blockchain_network}:{self.transaction_hash}"


class TxOutput(models.Model):
    """A Bitcoin output: spent whole, later, by exactly one ``TxInput``."""

    transaction = models.ForeignKey(
        BlockchainTransaction, on_delete=models.CASCADE, related_name="outputs", db_constraint=False
    )
    chain = models.CharField(max_length=8, choices=CHAIN_CHOICES)
    txid = models.CharField(max_length=100)
    index = models.IntegerField()
    value = U256Field()
    address = models.CharField(max_length=100, null=True, blank=True)
    script_type = models.CharField(max_length=32)
    script_hex = models.TextField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["txid", "index", "chain"], name="output_key_uniq")
        ]
        indexes = [models.Index(fields=["address", "chain"], name="output_addr_idx")]

    def __str__(self) -> str:
        return f"{self.txid}:{self.index}"


class TxInput(models.Model):
    """A Bitcoin input: the exact output (``spent_txid:spent_vout``) it consumes.

    ``spent_output`` links to the stored output when it is known; inputs imported before their
    outputs are linked once those arrive.
    """

    transaction = models.ForeignKey(
        BlockchainTransaction, on_delete=models.CASCADE, related_name="inputs", db_constraint=False
    )
    chain = models.CharField(max_length=8, choices=CHAIN_CHOICES)
    txid = models.CharField(max_length=100)
    index = models.IntegerField()
    spent_txid = models.CharField(max_length=100, null=True, blank=True)
    spent_vout = models.IntegerField(null=True, blank=True)
    spent_output = models.OneToOneField(
        TxOutput,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="spent_by",
        db_constraint=False,
    )
    value = U256Field(null=True, blank=True)
    address = models.CharField(max_length=100, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["txid", "index", "chain"], name="input_key_uniq"),
            models.UniqueConstraint(
                fields=["spent_txid", "spent_vout", "chain"], name="input_spends_once_uniq"
            ),
        ]
        indexes = [models.Index(fields=["address", "chain"], name="input_addr_idx")]

    def __str__(self) -> str:
        return f"{self.txid}#in{self.index}"


class Transfer(models.Model):
    """A value movement on an account chain (native, internal call / inner instruction, token).

    Block, position and time are copied from the transaction so that per-address event
    streams can be read in chain order with one index scan.
    """

    transaction = models.ForeignKey(
        BlockchainTransaction,
        on_delete=models.CASCADE,
        related_name="transfers",
        db_constraint=False,
    )
    chain = models.CharField(max_length=8, choices=CHAIN_CHOICES)
    tx_hash = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    # Etherscan-derived internal transfers use keys above 2**62 (see fundtrace.chains.eth).
    index = models.BigIntegerField()
    asset = models.CharField(max_length=64)
    from_address = models.CharField(max_length=100, null=True, blank=True)
    to_address = models.CharField(max_length=100, null=True, blank=True)
    amount = U256Field()
    trace_address = models.CharField(max_length=200, null=True, blank=True)
    block_number = models.BigIntegerField(null=True, blank=True)
    tx_index = models.IntegerField(null=True, blank=True)
    timestamp = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tx_hash", "kind", "index", "chain"], name="transfer_key_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["from_address", "chain"], name="transfer_from_idx"),
            models.Index(fields=["to_address", "chain"], name="transfer_to_idx"),
            models.Index(fields=["chain", "asset", "block_number"], name="transfer_asset_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.tx_hash}:{self.kind}:{self.index}"


class Address(models.Model):
    """An address seen on a chain; the anchor for labels, clusters and annotations."""

    chain = models.CharField(max_length=8, choices=CHAIN_CHOICES)
    address = models.CharField(max_length=100)
    first_seen_block = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "address"], name="address_chain_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.chain}:{self.address}"


class CollectionCheckpoint(models.Model):
    """Progress of one ``fundtrace collect`` job, saved in the same transaction as its data.

    ``job`` names what was asked (``blocks:100-200``, ``address:forward:2:<addr>``), so rerunning
    the same command resumes it. ``next_block`` is the first block of a range job not yet
    stored; a re-org rollback pulls it back to just above the fork point.
    """

    chain = models.CharField(max_length=8, choices=CHAIN_CHOICES)
    job = models.CharField(max_length=300)
    endpoint = models.CharField(max_length=300, blank=True, default="")
    next_block = models.BigIntegerField(null=True, blank=True)
    last_hash = models.CharField(max_length=100, null=True, blank=True)
    status = models.CharField(max_length=16, default="running")
    error = models.TextField(null=True, blank=True)
    state = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "job"], name="checkpoint_chain_job_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.chain}:{self.job} -> {self.next_block} ({self.status})"
