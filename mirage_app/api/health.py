"""`GET /api/health`: database, Redis, workers and Evolution reachability (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from mirage_app.services.health import check_health

router = APIRouter(tags=["health"])


@router.get("/api/health", summary="Health of the database, Redis, workers and Evolution")
async def health() -> JSONResponse:
    report = await run_in_threadpool(check_health)
    return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)
