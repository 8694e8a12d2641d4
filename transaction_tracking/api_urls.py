"""/api/v1/: the REST API (included from config/urls.py)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from transaction_tracking import chain_views, views
from user_management import views as user_views

CASE = r"cases/(?P<case_pk>[0-9]+)"
RUN = CASE + r"/runs/(?P<run_pk>[0-9]+)"

router = DefaultRouter()
router.include_root_view = False
router.register(r"cases", views.CaseViewSet, basename="case")
router.register(CASE + r"/members", views.CaseMemberViewSet, basename="case-member")
router.register(CASE + r"/seeds", views.SeedViewSet, basename="case-seed")
router.register(CASE + r"/stolen-amounts", views.StolenAmountViewSet, basename="case-stolen")
router.register(CASE + r"/annotations", views.AnnotationViewSet, basename="case-annotation")
router.register(CASE + r"/watchlist", views.WatchlistViewSet, basename="case-watchlist")
router.register(CASE + r"/runs", views.TraceRunViewSet, basename="case-run")
router.register(RUN + r"/flows", views.FlowViewSet, basename="run-flow")
router.register(RUN + r"/endpoints", views.EndpointViewSet, basename="run-endpoint")
router.register(r"alerts", views.AlertViewSet, basename="alert")

urlpatterns = [
    path("auth/token/", user_views.TokenView.as_view(), name="api-token"),
    path("users/me/", user_views.MeView.as_view(), name="users-me"),
    path("users/me/image/", user_views.MeImageView.as_view(), name="users-me-image"),
    path(
        "addresses/<str:chain>/<str:address>/",
        chain_views.AddressHistoryView.as_view(),
        name="address-history",
    ),
    path(
        "entities/<str:chain>/<str:address>/",
        chain_views.EntityView.as_view(),
        name="entity",
    ),
    path(
        "transactions/<str:chain>/<str:tx_hash>/",
        chain_views.TransactionView.as_view(),
        name="stored-transaction",
    ),
    *router.urls,
]
