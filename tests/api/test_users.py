"""users/me, profile image validation, and token issuance with login throttling."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from tests.api.conftest import World
from transaction_tracking.models import AuditEntry
from user_management import images

pytestmark = pytest.mark.django_db
V1 = "/api/v1"


def image_bytes(fmt: str, size: tuple[int, int] = (8, 8), trailer: bytes = b"") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(out, format=fmt)
    return out.getvalue() + trailer


def upload(w: World, name: str, data: bytes, content_type: str = "image/png") -> Any:
    f = SimpleUploadedFile(name, data, content_type=content_type)
    return w.client(w.viewer).put(f"{V1}/users/me/image/", {"image": f}, format="multipart")


def test_me_shows_role_and_updates_profile(world: World) -> None:
    c = world.client(world.viewer)
    me = c.get(f"{V1}/users/me/").json()
    assert me["username"] == "vera" and me["role"] == "analyst" and me["can_investigate"] is False
    r = c.patch(f"{V1}/users/me/", {"bio": "analyst", "age": 41, "role": "admin"}, format="json")
    assert r.status_code == 200
    world.viewer.refresh_from_db()
    assert (world.viewer.bio, world.viewer.age, world.viewer.role) == ("analyst", 41, "analyst")
    entry = AuditEntry.objects.filter(object_type="User").last()
    assert entry.changes["changed"]["bio"] == ["", "analyst"]
    assert c.patch(f"{V1}/users/me/", {"age": 1000}, format="json").status_code == 400


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_real_images_are_stored_re_encoded_under_a_random_name(world: World, fmt: str) -> None:
    r = upload(world, "../../evil.php", image_bytes(fmt, trailer=b"<?php system($_GET['c']); ?>"))
    assert r.status_code == 200, r.content
    world.viewer.refresh_from_db()
    name = world.viewer.user_image.name
    assert name.startswith("user_images/") and "evil" not in name and ".php" not in name
    stored = Path(django_settings.MEDIA_ROOT) / name
    assert stored.is_file()
    data = stored.read_bytes()
    assert b"<?php" not in data  # the trailing payload did not survive re-encoding
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == fmt and img.size == (8, 8)
    got = world.client(world.viewer).get(f"{V1}/users/me/image/")
    assert got.status_code == 200 and got["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("a.png", b"<svg onload=alert(1)></svg>", "not a PNG"),
        ("a.png", b"GIF89a" + b"\x00" * 40, "not a PNG"),
        ("a.gif", image_bytes("GIF"), "unsupported image type GIF"),
        ("a.png", image_bytes("PNG", (64, 64))[:-20], "corrupt"),
        ("big.png", image_bytes("PNG", (5000, 10)), "5000x10"),
        ("huge.png", image_bytes("PNG") + b"\x00" * (2 * 1024 * 1024), "2 MB"),
    ],
)
def test_bad_uploads_are_refused(world: World, name: str, data: bytes, reason: str) -> None:
    r = upload(world, name, data)
    assert r.status_code == 400
    assert reason in str(r.json()["image"])
    world.viewer.refresh_from_db()
    assert not world.viewer.user_image


def test_model_validator_refuses_non_images() -> None:
    with pytest.raises(ValidationError):
        images.validate_image_file(SimpleUploadedFile("x.jpg", b"#!/bin/sh\nrm -rf /\n"))
    images.validate_image_file(SimpleUploadedFile("x.jpg", image_bytes("JPEG")))


def test_image_can_be_deleted(world: World) -> None:
    assert upload(world, "a.png", image_bytes("PNG")).status_code == 200
    c = world.client(world.viewer)
    assert c.delete(f"{V1}/users/me/image/").status_code == 204
    assert c.get(f"{V1}/users/me/image/").status_code == 404


def test_token_auth_for_scripts(world: World) -> None:
    world.owner.set_password("correct horse battery")
    world.owner.save()
    anon = APIClient()
    r = anon.post(
        f"{V1}/auth/token/",
        {"username": "olga", "password": "correct horse battery"},
        format="json",
    )
    assert r.status_code == 200
    token = r.json()["token"]
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert script.get(f"{V1}/users/me/").json()["username"] == "olga"
    assert AuditEntry.objects.filter(action="auth.token", actor_username="olga").exists()
    bad = anon.post(f"{V1}/auth/token/", {"username": "olga", "password": "x"}, format="json")
    assert bad.status_code == 400
    invalid = APIClient()
    invalid.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert invalid.get(f"{V1}/users/me/").status_code in (401, 403)


def test_login_is_throttled_against_password_guessing(world: World, settings: Any) -> None:
    anon = APIClient()
    codes = [
        anon.post(
            f"{V1}/auth/token/", {"username": "olga", "password": f"guess{i}"}, format="json"
        ).status_code
        for i in range(12)
    ]
    assert codes[:10] == [400] * 10
    assert codes[10:] == [429, 429]


@pytest.mark.parametrize("form", ["/accounts/login/", "/api-auth/login/", "/admin/login/"])
def test_password_forms_share_one_throttle(world: World, form: str) -> None:
    """Ten guesses per window from one client across every sign-in form, then 429."""
    from django.test import Client

    c = Client()
    forms = ["/accounts/login/", "/api-auth/login/", "/admin/login/"]
    codes = [
        c.post(forms[i % 3], {"username": "olga", "password": f"guess{i}"}).status_code
        for i in range(10)
    ]
    assert 429 not in codes and set(codes) == {200}  # the form again, with its error
    blocked = c.post(form, {"username": world.viewer.username, "password": "pw"})
    assert blocked.status_code == 429 and blocked["Retry-After"] == "60"
    assert c.get(form).status_code in (200, 302)  # reading the form is not an attempt


def test_login_rate_setting_is_validated() -> None:
    from user_management.login_throttle import parse_rate

    assert parse_rate("10/min") == (10, 60) and parse_rate("100/hour") == (100, 3600)
    with pytest.raises(ValueError, match="login rate"):
        parse_rate("ten/min")
