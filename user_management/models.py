"""Investigators, analysts and administrators of fundtrace."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from user_management.images import user_image_path, validate_image_file


class Role(models.TextChoices):
    """Global roles. Which cases a user sees is decided per case by membership, not here."""

    ADMIN = "admin", "administrator (sees every case)"
    INVESTIGATOR = "investigator", "investigator (opens cases, runs traces)"
    ANALYST = "analyst", "analyst / viewer (reads cases shared with them)"


class CustomUser(AbstractUser):
    """The seed's user: an ``AbstractUser`` plus an investigator profile.

    ``is_investigator`` marks users allowed to open cases and run traces; everyone else reads
    only what is shared with them. ``role`` generalises it (the seed's flag still grants the
    investigator role, so accounts created before roles keep working).
    """

    is_investigator = models.BooleanField(default=False)
    bio = models.TextField(blank=True, default="")
    location = models.CharField(max_length=120, blank=True, default="")
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    user_image = models.ImageField(
        upload_to=user_image_path, null=True, blank=True, validators=[validate_image_file]
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANALYST)

    class Meta:
        verbose_name = "user"
        verbose_name_plural = "users"

    @property
    def is_admin_role(self) -> bool:
        return bool(self.is_superuser or self.role == Role.ADMIN)

    @property
    def can_investigate(self) -> bool:
        return bool(self.is_admin_role or self.role == Role.INVESTIGATOR or self.is_investigator)
