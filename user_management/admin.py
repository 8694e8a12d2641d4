from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from user_management.models import CustomUser


@admin.register(CustomUser)
class CustomUserAdmin(UserAdmin):
    fieldsets = (
        *UserAdmin.fieldsets,
        (
            "Investigator profile",
            {"fields": ("is_investigator", "bio", "location", "age", "user_image")},
        ),
    )
    list_display = ("username", "email", "is_investigator", "is_staff", "is_active")
    list_filter = ("is_investigator", "is_staff", "is_superuser", "is_active")
