"""The signed-in user's profile. Role and permissions are read-only here (admins set them)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from user_management.models import CustomUser


class MeSerializer(serializers.ModelSerializer):
    is_admin = serializers.BooleanField(source="is_admin_role", read_only=True)
    can_investigate = serializers.BooleanField(read_only=True)
    has_image = serializers.SerializerMethodField()
    age = serializers.IntegerField(min_value=0, max_value=150, required=False, allow_null=True)

    class Meta:
        model = CustomUser
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "is_investigator",
            "is_admin",
            "can_investigate",
            "bio",
            "location",
            "age",
            "has_image",
        ]
        read_only_fields = ["id", "username", "role", "is_investigator"]

    def get_has_image(self, obj: CustomUser) -> bool:
        return bool(obj.user_image)


class ImageUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="PNG, JPEG or WebP; at most 2 MB and 4096x4096")

    def validate_image(self, value: Any) -> Any:
        from django.core.exceptions import ValidationError as DjangoValidationError

        from user_management.images import sanitize_image

        try:
            return sanitize_image(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
