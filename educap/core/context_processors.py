from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language_bidi

from educap.accounts.scope import scope_for


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the base layout needs: direction, languages and the navigation for the user's grants."""
    user = getattr(request, "user", None)
    scope = scope_for(user)

    def can_import_units() -> bool:  # called by the template only where the menu shows
        from educap.org.importing import orgunit_import_allowed

        return bool(user and user.is_authenticated) and orgunit_import_allowed(user=user)

    def manages_campaigns() -> bool:
        from educap.assessments.services import campaign_manage_allowed

        return bool(user and user.is_authenticated) and campaign_manage_allowed(user=user)

    return {
        "can_import_units": can_import_units,
        "manages_campaigns": manages_campaigns,
        "text_dir": "rtl" if get_language_bidi() else "ltr",
        "scope": scope,
        "nav_languages": settings.LANGUAGES,
    }
