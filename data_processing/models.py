"""Attribution derived from chain data: labels, clusters and the links that justify them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from data_collection.models import CHAIN_CHOICES
from fundtrace.attribution.labels import Category

CATEGORY_CHOICES = [(c.value, c.value) for c in Category]


class AddressLabel(models.Model):
    """One claim that an address belongs to an entity, with where the claim comes from.

    ``scope`` is ``shared`` for labels everyone sees, or ``case:<id>`` for a case-private label
    (then ``case`` is set too); it is part of the natural key so that re-importing a file is
    idempotent on every database (NULLs would be distinct in a unique constraint).
    """

    chain = models.CharField(max_length=8, choices=CHAIN_CHOICES)
    address = models.CharField(max_length=100)
    entity = models.CharField(max_length=200)
    category = models.CharField(max_length=16, choices=CATEGORY_CHOICES)
    source = models.CharField(max_length=300)
    source_category = models.CharField(max_length=100, blank=True, null=True)
    confidence = models.PositiveSmallIntegerField(default=50)
    scope = models.CharField(max_length=40, default="shared")
    case = models.ForeignKey(
        "transaction_tracking.Case",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="private_labels",
    )
    valid = models.BooleanField(default=True)
    notes = models.TextField(blank=True, default="")
    as_of = models.CharField(max_length=40, blank=True, null=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "address", "entity", "category", "source", "scope"],
                name="label_natural_key_uniq",
            )
        ]
        indexes = [models.Index(fields=["chain", "address"], name="label_addr_idx")]

    def __str__(self) -> str:
        return f"{self.chain}:{self.address} = {self.entity} ({self.category})"


class ClusteringState(models.Model):
    """The clustering of one chain, saved whole, and how far it has read the stored data.

    ``state`` is ``fundtrace.attribution.clustering.Clustering.to_arrays()`` as an ``.npz``
    blob: addresses, union-find parents, and every link with its heuristic, confidence and
    transactions. ``last_transaction_id`` makes ``fundtrace cluster`` incremental.
    """

    chain = models.CharField(max_length=8, choices=CHAIN_CHOICES, unique=True)
    last_transaction_id = models.BigIntegerField(default=0)
    state = models.BinaryField()
    addresses = models.BigIntegerField(default=0)
    links = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.chain} clustering ({self.addresses} addresses, {self.links} links)"
