from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm

from user_management.images import sanitize_image
from user_management.models import CustomUser


class CustomUserChangeForm(UserChangeForm):
    """Uploads through the admin are validated and re-encoded exactly like API uploads."""

    class Meta(UserChangeForm.Meta):
        model = CustomUser

    def clean_user_image(self) -> Any:
        image = self.cleaned_data.get("user_image")
        if image and hasattr(image, "content_type"):  # a new upload, not the stored file
            return sanitize_image(image)
        return image


@admin.register(CustomUser)
class CustomUserAdmin(UserAdmin):
    form = CustomUserChangeForm
    fieldsets = (
        *UserAdmin.fieldsets,
        (
            "Investigator profile",
            {"fields": ("role", "is_investigator", "bio", "location", "age", "user_image")},
        ),
    )
    list_display = ("username", "email", "role", "is_investigator", "is_staff", "is_active")
    list_filter = ("role", "is_investigator", "is_staff", "is_superuser", "is_active")
