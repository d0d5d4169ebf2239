from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "educap.training"
    label = "training"
    verbose_name = "Training"
