from django.apps import AppConfig


class VisualizationConfig(AppConfig):
    name = "visualization"
