from django.apps import AppConfig


class TransactionTrackingConfig(AppConfig):
    name = "transaction_tracking"
