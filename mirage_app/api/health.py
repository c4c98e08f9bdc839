"""`GET /api/health`: database, Redis, workers and Evolution reachability (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from mirage_app.api.schemas.common import errors
from mirage_app.api.schemas.system import HealthReport
from mirage_app.services.health import check_health

router = APIRouter(tags=["health"])


@router.get(
    "/api/health",
    response_model=HealthReport,
    responses={503: {"model": HealthReport, "description": "At least one check failed (`status`: degraded)"}}
    | errors(),
    summary="Health of the database, Redis, workers and Evolution",
)
async def health() -> JSONResponse:
    # The report goes out as the service built it: each check carries its own extra fields (see HealthCheck).
    report = await run_in_threadpool(check_health)
    return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)
