from django.apps import AppConfig


class DataCollectionConfig(AppConfig):
    name = "data_collection"
    verbose_name = "Chain data"
