from django.apps import AppConfig


class UserManagementConfig(AppConfig):
    name = "user_management"
    verbose_name = "Users"
