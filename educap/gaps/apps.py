from django.apps import AppConfig


class GapsConfig(AppConfig):
    name = "educap.gaps"
    label = "gaps"
    verbose_name = "Gap analysis"

    def ready(self) -> None:
        # The source apps send signals and never import gaps; the wiring lives here.
        from educap.assessments.signals import campaign_closed, current_levels_changed
        from educap.frameworks.signals import requirements_changed
        from educap.gaps import receivers
        from educap.org.signals import units_changed
        from educap.people.signals import people_changed

        current_levels_changed.connect(
            receivers.on_current_levels_changed, dispatch_uid="gaps-levels"
        )
        people_changed.connect(receivers.on_people_changed, dispatch_uid="gaps-people")
        units_changed.connect(receivers.on_units_changed, dispatch_uid="gaps-units")
        requirements_changed.connect(
            receivers.on_requirements_changed, dispatch_uid="gaps-requirements"
        )
        campaign_closed.connect(receivers.on_campaign_closed, dispatch_uid="gaps-campaigns")
