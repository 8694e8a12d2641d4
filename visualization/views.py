"""Pages of the investigator's workspace (the Dash/Plotly graph, Sankey and timeline land here)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from data_collection.models import BlockchainTransaction


@login_required
def home(request: HttpRequest) -> HttpResponse:
    per_chain = (
        BlockchainTransaction.objects.values("blockchain_network")
        .annotate(n=Count("id"))
        .order_by("blockchain_network")
    )
    return render(request, "visualization/home.html", {"per_chain": per_chain})
