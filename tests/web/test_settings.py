from django.conf import settings


def test_custom_user_model_is_the_seeds() -> None:
    from django.contrib.auth import get_user_model

    assert settings.AUTH_USER_MODEL == "user_management.CustomUser"
    fields = {f.name for f in get_user_model()._meta.get_fields()}
    assert {"is_investigator", "bio", "location", "age", "user_image"} <= fields


def test_home_page_requires_login_and_the_login_page_signs_in(client, django_user_model) -> None:
    response = client.get("/")
    assert response.status_code == 302
    login_url = response["Location"]
    assert client.get(login_url).status_code == 200
    django_user_model.objects.create_user("ann", password="a-long-passphrase-1")
    response = client.post(
        "/accounts/login/", {"username": "ann", "password": "a-long-passphrase-1", "next": "/"}
    )
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert b"Signed in as ann" in page.content


def test_production_settings_pass_check_deploy(tmp_path) -> None:
    import os
    import secrets
    import subprocess
    import sys

    from tests.paths import REPO

    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "FUNDTRACE_SECURE": "1",
        "FUNDTRACE_SECRET_KEY": secrets.token_urlsafe(60),
        "FUNDTRACE_ALLOWED_HOSTS": "fundtrace.example.org",
        "FUNDTRACE_HOME": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "no issues" in out.stdout
