"""`/api/media`: multipart upload, list, retag, delete, and the file route the pages load with their sign-in cookie."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from mirage_app.api.app import api
from mirage_app.api.media import MAX_BODY
from mirage_app.core import signed_links
from mirage_app.core.web_security import SESSION_COOKIE
from mirage_app.models import UserRole
from mirage_app.services import auth
from tests.api.conftest import api_client
from tests.media.samples import audio, picture
from tests.services.conftest import clock, fast_argon2, make_user  # noqa: F401


def _upload(http: TestClient, data: bytes, kind: str = "image", name: str = "foto.png", tags: str = ""):
    return http.post("/api/media", files={"file": (name, data, "application/octet-stream")},
                     data={"kind": kind, "tags": tags})  # fmt: skip


def test_upload_list_retag_delete(http):
    created = _upload(http, picture("PNG"), tags="praia, verao")
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["kind"], body["mime"], body["tags"], body["duplicate"]) == (
        "image",
        "image/jpeg",
        ["praia", "verao"],
        False,
    )
    assert body["url"] == f"/api/media/{body['id']}/file"
    again = _upload(http, picture("PNG"), name="copia.png")
    assert again.status_code == 201 and again.json()["id"] == body["id"] and again.json()["duplicate"]
    voice = _upload(http, audio("WAV", "PCM_16", seconds=1.0), kind="voice", name="oi.wav")
    assert voice.json()["mime"] == "audio/ogg; codecs=vorbis"

    listed = http.get("/api/media").json()["media"]
    assert [m["id"] for m in listed] == [voice.json()["id"], body["id"]]
    assert [m["id"] for m in http.get("/api/media", params={"kind": "voice"}).json()["media"]] == [voice.json()["id"]]
    assert http.get("/api/media", params={"kind": "video"}).json()["error"] == "media.kind_invalid"

    retagged = http.patch(f"/api/media/{body['id']}", json={"tags": ["mar"]})
    assert retagged.status_code == 200 and retagged.json()["tags"] == ["mar"]
    deleted = http.delete(f"/api/media/{body['id']}")
    assert deleted.status_code == 200 and deleted.json() == {"archived": False, "messages": 0}
    assert http.delete(f"/api/media/{body['id']}").json()["error"] == "media.not_found"


def test_the_file_is_served_with_its_type_and_cache_headers(http):
    asset = _upload(http, picture("GIF"), kind="sticker").json()
    answer = http.get(asset["url"])
    assert answer.status_code == 200 and answer.content[:4] == b"RIFF"
    assert answer.headers["content-type"] == "image/webp"
    assert answer.headers["cache-control"] == "private, max-age=3600"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert http.get(f"/api/media/{uuid.uuid4()}/file").status_code == 404


def test_refusals_are_json_errors(http):
    refused = _upload(http, b"%PDF-1.7", name="foto.png")
    assert refused.status_code == 422
    assert refused.json()["error"] == "media.rejected.unsupported_type"
    assert refused.json()["detail"][0]["field"] == "file"
    no_file = http.post("/api/media", data={"kind": "image"})
    assert no_file.status_code in (400, 422) and no_file.json()["error"] in (
        "media.file_required",
        "malformed_multipart",
    )
    assert http.post("/api/media", data={"kind": "image"}, files={"other": ("x", b"x")}).json()["error"] == (
        "media.file_required"
    )


def test_an_oversized_body_is_refused_before_it_is_read(http):
    headers = {"content-length": str(MAX_BODY + 1), "content-type": "multipart/form-data; boundary=x"}
    declared = http.post("/api/media", content=b"x" * 10, headers=headers)
    assert declared.status_code == 413 and declared.json()["error"] == "payload_too_large"

    def stream():  # no Content-Length: chunked, refused once the total passes the limit
        for _ in range(MAX_BODY // (1024 * 1024) + 2):
            yield b"x" * (1024 * 1024)

    chunked = http.post("/api/media", content=stream(), headers={"content-type": "multipart/form-data; boundary=x"})
    assert chunked.status_code == 413


def test_tenants_and_keys(http, tenant_b):
    asset = _upload(http, picture("PNG")).json()
    other = api_client(tenant_b)
    assert other.get(asset["url"]).status_code == 404
    assert other.delete(f"/api/media/{asset['id']}").status_code == 404
    assert other.get("/api/media").json() == {"media": []}
    anonymous = TestClient(api)
    assert anonymous.get(asset["url"]).status_code == 401
    assert anonymous.get("/api/media").status_code == 401


@pytest.mark.parametrize("role", [UserRole.viewer, UserRole.operator])
def test_the_pages_load_files_with_the_sign_in_cookie(http, tenant_a, make_user, role):  # noqa: F811
    asset = _upload(http, picture("PNG")).json()
    user = make_user(tenant_a, role)
    token = auth.login(user.email, user.password).session_token
    browser = TestClient(api, cookies={SESSION_COOKIE: token})
    answer = browser.get(asset["url"])
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    assert TestClient(api, cookies={SESSION_COOKIE: "forged"}).get(asset["url"]).status_code == 401
    # The cookie opens the file route only: uploads and deletes need an API key.
    assert browser.delete(f"/api/media/{asset['id']}").status_code == 401


def test_a_signed_link_opens_one_file_without_a_sign_in_until_it_expires(http, tenant_a, tenant_b):
    """What Evolution downloads for a picture status (core.signed_links): no cookie, no key, one file, a while."""
    asset = _upload(http, picture("PNG")).json()
    asset_id, now = uuid.UUID(asset["id"]), datetime.now(UTC)
    link = urlsplit(signed_links.file_link(tenant_a, asset_id, now, public_url="http://localhost:8000"))
    assert link.netloc == "127.0.0.1:8000"  # Evolution refuses hosts without a top-level domain; an IP passes
    anonymous = TestClient(api)
    shared = anonymous.get(f"{link.path}?{link.query}")
    assert shared.status_code == 200 and shared.content == http.get(asset["url"]).content
    params = dict(parse_qsl(link.query))
    tampered = [
        {**params, "signature": "0" * 64},
        {**params, "expires": str(int(params["expires"]) + 3600)},  # stretched
        {**params, "tenant": str(tenant_b)},  # another tenant's name on the same file
        {**params, "tenant": "not-a-uuid"},
    ]
    for query in tampered:
        answer = anonymous.get(link.path, params=query)
        assert answer.status_code == 403 and answer.json()["error"] == "media.link_invalid"
    other_file = _upload(http, picture("GIF"), kind="sticker").json()["id"]
    assert anonymous.get(f"/api/media/{other_file}/shared", params=params).status_code == 403
    expired = urlsplit(signed_links.file_link(tenant_a, asset_id, now - 2 * signed_links.LINK_TTL))
    assert anonymous.get(f"{expired.path}?{expired.query}").status_code == 403
