"""Pages of the investigator's workspace: the cases a user may see, a case, one trace run.

Server-rendered on purpose: the pages must work offline, print, and enforce exactly the API's
permissions, so they go through ``transaction_tracking.access`` (a case someone may not see is
a 404, as in the API). Plotly draws the Sankey; its JavaScript is served from this project,
never from a CDN, because the demo runs without internet.
"""

from __future__ import annotations

from functools import lru_cache

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from data_collection.models import BlockchainTransaction
from transaction_tracking import access
from transaction_tracking.models import Case, TraceRun
from visualization import summaries
from visualization.sankey import build_sankey, plotly_figure

FLOW_ROWS = 500  # the page shows this many flows; the API pages through all of them


@login_required
def home(request: HttpRequest) -> HttpResponse:
    per_chain = (
        BlockchainTransaction.objects.values("blockchain_network")
        .annotate(n=Count("id"))
        .order_by("blockchain_network")
    )
    cases = access.visible_cases(request.user).annotate(n_runs=Count("runs")).order_by("-id")
    return render(request, "visualization/home.html", {"per_chain": per_chain, "cases": cases})


def _run_api(case: Case, run: TraceRun) -> str:
    return reverse("case-run-detail", kwargs={"case_pk": case.pk, "pk": run.pk})


def _sankey_context(run: TraceRun | None, detail: bool) -> dict[str, object]:
    if run is None or run.status != TraceRun.Status.DONE or not run.result:
        return {"sankey": None}
    doc = run.result
    sankey = build_sankey(
        doc.get("flows", []), doc.get("endpoints", []), max_address_nodes=None if detail else 60
    )
    unit = summaries.unit_name(run.chain, doc.get("asset") or run.asset)
    return {
        "sankey": plotly_figure(sankey, doc.get("decimals"), unit),
        "sankey_collapsed": sankey.collapsed,
        "sankey_detail": detail,
        "sankey_run": run,
    }


def _wants_detail(request: HttpRequest) -> bool:
    return request.GET.get("sankey") == "addresses"


@login_required
@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case, role = access.get_visible_case(request.user, case_id)
    runs = list(case.runs.select_related("created_by").order_by("chain", "id"))
    selected = None
    raw = request.GET.get("run", "")
    if raw:
        selected = next((r for r in runs if str(r.pk) == raw), None)
        if selected is None:
            raise Http404("no such run in this case")
    else:
        selected = next((r for r in runs if r.status == TraceRun.Status.DONE), None)
    stolen = [
        {
            "chain": s.chain,
            "asset": s.asset,
            "amount": summaries.units(s.amount, s.decimals),
            "base_units": s.amount,
            "unit": summaries.unit_name(s.chain, s.asset),
        }
        for s in case.stolen_amounts.all()
    ]
    context = {
        "case": case,
        "role": role,
        "stolen": stolen,
        "seeds": case.seeds.all(),
        "members": case.members.select_related("user"),
        "groups": summaries.where_funds_went(runs),
        "runs": [(r, _run_api(case, r)) for r in runs],
        "audit": [(e, summaries.describe_changes(e)) for e in summaries.case_audit(case)],
        "case_api": reverse("case-detail", kwargs={"pk": case.pk}),
        **_sankey_context(selected, _wants_detail(request)),
    }
    return render(request, "visualization/case.html", context)


@login_required
@require_GET
def run_detail(request: HttpRequest, case_id: int, run_id: int) -> HttpResponse:
    case, role = access.get_visible_case(request.user, case_id)
    run = case.runs.select_related("created_by").filter(pk=run_id).first()
    if run is None:
        raise Http404("no such run in this case")
    doc = run.result or {}
    decimals = doc.get("decimals")
    source = int(doc.get("source_amount") or 0)
    endpoints = [
        {
            "e": e,
            "amount": summaries.units(e.amount, decimals),
            "pct": summaries.percent(int(e.amount), source),
        }
        for e in run.endpoints.order_by("-amount", "id")
    ]
    n_flows = run.flows.count()
    flows = [
        {"f": f, "amount": summaries.units(f.amount, decimals)}
        for f in run.flows.order_by("hop", "id")[:FLOW_ROWS]
    ]
    api = _run_api(case, run)
    parameters = [(k, _param_text(v)) for k, v in (run.parameters or {}).items()]
    context = {
        "parameters": parameters,
        "case": case,
        "role": role,
        "run": run,
        "doc": doc,
        "unit": summaries.unit_name(run.chain, doc.get("asset") or run.asset),
        "source_amount": summaries.units(doc.get("source_amount"), decimals),
        "endpoints": endpoints,
        "flows": flows,
        "n_flows": n_flows,
        "flows_truncated": n_flows > FLOW_ROWS,
        "warnings": doc.get("warnings", []),
        "api": api,
        "api_flows": reverse("run-flow-list", kwargs={"case_pk": case.pk, "run_pk": run.pk}),
        "api_endpoints": reverse(
            "run-endpoint-list", kwargs={"case_pk": case.pk, "run_pk": run.pk}
        ),
        **_sankey_context(run, _wants_detail(request)),
    }
    return render(request, "visualization/run.html", context)


def _param_text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


@lru_cache(maxsize=1)
def _plotly_js() -> bytes:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode()


@require_GET
def plotly_js(request: HttpRequest) -> HttpResponse:
    """plotly.min.js from the installed ``plotly`` package (no CDN: the demo is offline)."""
    response = HttpResponse(_plotly_js(), content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response
