"""Pydantic models of the `/api` request and response bodies, one module per router, so that
`/api/openapi.json` describes every operation (tests/api/test_openapi.py keeps it that way)."""
