"""users/me, the profile image, and token issuance for scripts (throttled)."""

from __future__ import annotations

import mimetypes
from typing import Any

from django.db import transaction
from django.http import FileResponse, Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from transaction_tracking import audit
from user_management.serializers import ImageUploadSerializer, MeSerializer


class MeView(generics.RetrieveUpdateAPIView):
    """The signed-in user's own profile."""

    serializer_class = MeSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self) -> Any:
        return self.request.user

    def perform_update(self, serializer: MeSerializer) -> None:
        with transaction.atomic():
            before = audit.jsonable(dict(MeSerializer(serializer.instance).data))
            user = serializer.save()
            after = audit.jsonable(dict(MeSerializer(user).data))
            diff = {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}
            audit.record("update", "User", user.pk, {"changed": diff}, request=self.request)


class MeImageView(APIView):
    """The profile image: served only to its owner, through the API, never from a public path."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        responses={
            (200, "image/png"): OpenApiResponse(description="the image bytes"),
            404: OpenApiResponse(description="no image"),
        }
    )
    def get(self, request: Request) -> Any:
        image = request.user.user_image
        if not image:
            raise Http404("no image")
        try:
            handle = image.open("rb")
        except FileNotFoundError:
            raise Http404("no image") from None
        content_type = mimetypes.guess_type(image.name)[0] or "application/octet-stream"
        response = FileResponse(handle, content_type=content_type)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Disposition"] = "inline"
        return response

    @extend_schema(
        request={"multipart/form-data": ImageUploadSerializer},
        responses={200: MeSerializer, 400: OpenApiResponse(description="not an allowed image")},
    )
    def put(self, request: Request) -> Response:
        upload = ImageUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        user = request.user
        old = user.user_image.name if user.user_image else None
        with transaction.atomic():
            user.user_image.save(
                upload.validated_data["image"].name, upload.validated_data["image"], save=True
            )
            audit.record(
                "update",
                "User",
                user.pk,
                {"changed": {"user_image": [old, user.user_image.name]}},
                request=request,
            )
        if old:
            user.user_image.storage.delete(old)
        return Response(MeSerializer(user).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request) -> Response:
        user = request.user
        if user.user_image:
            old = user.user_image.name
            with transaction.atomic():
                user.user_image.delete(save=True)
                audit.record(
                    "update",
                    "User",
                    user.pk,
                    {"changed": {"user_image": [old, None]}},
                    request=request,
                )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenView(ObtainAuthToken):
    """Exchange username and password for an API token; throttled against password guessing."""

    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        with transaction.atomic():
            token, created = Token.objects.get_or_create(user=user)
            audit.record(
                "auth.token", "User", user.pk, {"new": created}, user=user, request=request
            )
        return Response({"token": token.key})
