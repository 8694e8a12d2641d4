"""Sign-in throttling for the password forms: the site's, the browsable API's and the admin's.

The API token view has DRF's scoped throttle; these three forms are plain Django views, and
without a limit each one is a password-guessing oracle. One budget per client address covers
them all (an attacker gains nothing by switching forms), with the same rate setting
(``FUNDTRACE_LOGIN_RATE``). The count lives in Django's cache: per process on the embedded
default, shared once a deployment configures a shared cache.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

LOGIN_PATHS = frozenset({"/accounts/login/", "/api-auth/login/", "/admin/login/"})
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'10/min' -> (10, 60): attempts and window in seconds (DRF's notation)."""
    count, _, period = rate.partition("/")
    if not count.isdigit() or not period or period[0] not in PERIODS:
        raise ValueError(f"login rate {rate!r}: expected e.g. '10/min', '100/hour'")
    return int(count), PERIODS[period[0]]


class LoginThrottleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path in LOGIN_PATHS:
            limit, window = parse_rate(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"])
            key = f"fundtrace:login-form:{request.META.get('REMOTE_ADDR', '')}"
            cache.add(key, 0, timeout=window)
            try:
                attempts = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=window)
                attempts = 1
            if attempts > limit:
                response = HttpResponse(
                    "Too many sign-in attempts from this address; try again later.\n",
                    status=429,
                    content_type="text/plain",
                )
                response["Retry-After"] = str(window)
                return response
        return self.get_response(request)
