from django.conf import settings


def test_custom_user_model_is_the_seeds() -> None:
    from django.contrib.auth import get_user_model

    assert settings.AUTH_USER_MODEL == "user_management.CustomUser"
    fields = {f.name for f in get_user_model()._meta.get_fields()}
    assert {"is_investigator", "bio", "location", "age", "user_image"} <= fields
