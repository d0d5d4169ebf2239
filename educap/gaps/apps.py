from django.apps import AppConfig


class GapsConfig(AppConfig):
    name = "educap.gaps"
    label = "gaps"
    verbose_name = "Gap analysis"

    def ready(self) -> None:
        from educap.assessments.signals import current_levels_changed
        from educap.gaps.receivers import on_current_levels_changed

        current_levels_changed.connect(on_current_levels_changed, dispatch_uid="gaps-levels")
