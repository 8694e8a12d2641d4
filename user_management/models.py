"""Investigators, analysts and administrators of fundtrace."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class CustomUser(AbstractUser):
    """The seed's user: an ``AbstractUser`` plus an investigator profile.

    ``is_investigator`` marks users allowed to open cases and run traces; everyone else reads
    only what is shared with them.
    """

    is_investigator = models.BooleanField(default=False)
    bio = models.TextField(blank=True, default="")
    location = models.CharField(max_length=120, blank=True, default="")
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    user_image = models.ImageField(upload_to="user_images/", null=True, blank=True)

    class Meta:
        verbose_name = "user"
        verbose_name_plural = "users"
