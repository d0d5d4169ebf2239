from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from educap.accounts.scope import scope_for


@extend_schema(
    responses=inline_serializer(
        "Me",
        {
            "username": serializers.CharField(),
            "person": serializers.IntegerField(allow_null=True),
            "grants": serializers.ListField(child=serializers.DictField()),
        },
    )
)
@api_view(["GET"])
def me(request: Request) -> Response:
    """Who the caller is and what they may see."""
    user = request.user
    scope = scope_for(user)
    grants = [
        {"kind": g.kind, "unit": g.unit.code if g.unit else None}
        for g in user.grants.active().select_related("unit")
    ]
    return Response(
        {
            "username": user.get_username(),
            "person": user.person_id,
            "is_admin": scope.is_admin,
            "grants": grants,
        }
    )
