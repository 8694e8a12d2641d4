"""Who may see and change a case.

Visibility: administrators see every case; everyone else sees the cases they own or are a
member of. A case someone may not see does not exist for them (404, never 403, so ids do not
leak which cases exist). Within a visible case the member's role decides writes: viewers read
only (403 on any write); investigators add seeds, runs, annotations and watchlist entries;
owners (and administrators) also edit or delete the case and manage its members.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from transaction_tracking.models import Case, CaseMember

OWNER = CaseMember.Role.OWNER
INVESTIGATOR = CaseMember.Role.INVESTIGATOR
VIEWER = CaseMember.Role.VIEWER
WRITE_ROLES = frozenset({OWNER, INVESTIGATOR})
MANAGE_ROLES = frozenset({OWNER})


def is_admin(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", None) == "admin")


def can_open_cases(user: Any) -> bool:
    return bool(getattr(user, "can_investigate", False) or is_admin(user))


def visible_cases(user: Any) -> QuerySet[Case]:
    if is_admin(user):
        return Case.objects.all()
    member_of = CaseMember.objects.filter(user=user).values("case_id")
    return Case.objects.filter(Q(owner=user) | Q(pk__in=member_of))


def case_role(user: Any, case: Case) -> str | None:
    if is_admin(user) or case.owner_id == user.pk:
        return OWNER
    return CaseMember.objects.filter(case=case, user=user).values_list("role", flat=True).first()


def get_visible_case(user: Any, case_pk: Any) -> tuple[Case, str]:
    """The case and the user's role in it, or 404 whether it is missing or just not theirs."""
    try:
        pk = int(case_pk)
    except (TypeError, ValueError):
        raise Http404("no such case") from None
    case = Case.objects.filter(pk=pk).first() if 0 < pk < 2**63 else None
    role = case_role(user, case) if case is not None else None
    if case is None or role is None:
        raise Http404("no such case")
    return case, role
