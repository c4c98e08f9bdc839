"""The real app, started the way a developer starts it (`reflex run`, embedded default), driven by chromium.

The app keeps its own embedded PostgreSQL, Redis and simulator in a temporary data folder. Tests talk to it only
as a person or a script would: through the browser and HTTP. Teardown sends Ctrl-C (SIGINT) and checks that no
process of the run is left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
import pyotp
import pytest
import sqlalchemy as sa

from mirage_app.core.config import PROJECT_ROOT
from mirage_app.core.embedded import free_port
from mirage_app.i18n import catalog

CHROMIUM = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE", "/usr/bin/chromium")
PASSWORD_LINE = re.compile(rb"password:\s+(\S+)")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"  # git-ignored, for a person to look at
WIDTHS = (1440, 390)  # desktop and phone
DRAWER_BELOW = 820  # the navigation becomes a drawer at this width and under (assets/styles.css)


@dataclass
class RunningApp:
    url: str
    api_url: str
    data_dir: Path
    admin_email: str
    admin_password: str
    proc: subprocess.Popen

    def runtime(self) -> dict:
        return json.loads((self.data_dir / "runtime.json").read_text())


def _clean_env(data_dir: Path, backend_port: int) -> dict[str, str]:
    drop = {
        "DATABASE_URL",
        "REDIS_URL",
        "EVOLUTION_URL",
        "EVOLUTION_API_KEY",
        "MIRAGE_APP_DATABASE_URL",
        "OPENAI_API_KEY",
        "MIRAGE_EMBEDDED_OWNER",
        "MIRAGE_EMBEDDED_CHILD",
    }
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        MIRAGE_DATA_DIR=str(data_dir),
        MIRAGE_PUBLIC_URL=f"http://127.0.0.1:{backend_port}",
        MIRAGE_SECRET_KEY="browser-test-secret",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="session")
def running_app(tmp_path_factory) -> Iterator[RunningApp]:
    data_dir = tmp_path_factory.mktemp("app") / "data"
    frontend_port, backend_port = free_port(), free_port()
    log_path = data_dir.parent / "reflex.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed in teardown
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "reflex"),
            "run",
            "--frontend-port",
            str(frontend_port),
            "--backend-port",
            str(backend_port),
        ],
        cwd=PROJECT_ROOT,
        env=_clean_env(data_dir, backend_port),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as in a terminal
    )
    url, api_url = f"http://127.0.0.1:{frontend_port}", f"http://127.0.0.1:{backend_port}"
    try:
        _wait_ready(proc, url, api_url, log_path, timeout=600)
        match = PASSWORD_LINE.search(log_path.read_bytes())
        assert match, "the first run must print the generated admin password"
        yield RunningApp(url, api_url, data_dir, "admin@mirage.local", match.group(1).decode(), proc)
    finally:
        family = [proc.pid, *(p.pid for p in _descendants(proc.pid))]
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        leftovers = _alive(family, timeout=30)
        for p in leftovers:
            p.kill()
        assert not leftovers, f"processes left after Ctrl-C: {[' '.join(p.cmdline()) for p in leftovers]}"


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _alive(pids: list[int], timeout: float) -> list[psutil.Process]:
    procs = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            procs.append(psutil.Process(pid))
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def _wait_ready(proc: subprocess.Popen, url: str, api_url: str, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"reflex run exited:\n{log_path.read_text(errors='replace')[-4000:]}")
        try:
            if httpx.get(api_url + "/ping", timeout=2).status_code == 200 and httpx.get(url, timeout=5).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise TimeoutError(f"app not ready:\n{log_path.read_text(errors='replace')[-4000:]}")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--disable-quic",
        ],
        # Under scripts/at-local-time only the app's processes live at the shifted hour: chromium does not run
        # under libfaketime (its pages time out), and the browser's own clock does not matter to the tests.
        "env": {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME")},
    }


@pytest.fixture
def console_errors(page):
    """Collects console errors and failed requests; tests assert it stays empty."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on(
        "requestfailed",
        lambda r: None if _left_behind(r) else errors.append(f"requestfailed: {r.url} {r.failure}"),
    )
    return errors


def _left_behind(request) -> bool:
    """A dev-server module the page was still fetching when the test moved on (`reflex run` serves through Vite,
    which loads each dependency on first use): the navigation aborted it, nothing failed."""
    return "net::ERR_ABORTED" in (request.failure or "") and "/node_modules/.vite/deps/" in request.url


@dataclass
class Credentials:
    """The admin's password changes during the run (first-run flow); tests share what is current."""

    email: str
    password: str
    totp_secret: str | None = None
    recovery_codes: list[str] | None = None
    used_steps: set[int] = field(default_factory=set)

    def second_factor(self) -> str | None:
        """A code for the next sign-in: a recovery code while there are some, then a TOTP code of a 30 s step not
        used yet (each step works once), waiting for a new step when both usable ones are spent. The server accepts
        the steps either side of now, but only the current step and the next are taken: the previous one stops
        working when this step ends, which can come before the server checks the code."""
        if not self.totp_secret:
            return None
        if self.recovery_codes:
            return self.recovery_codes.pop()
        totp = pyotp.TOTP(self.totp_secret)
        while True:
            now = totp.timecode(datetime.now(UTC))
            free = [step for step in (now, now + 1) if step not in self.used_steps]
            if free:
                self.used_steps.add(free[0])
                return totp.generate_otp(free[0])
            time.sleep(1)

    def totp_at(self, offset_steps: int = 0) -> str:
        """The TOTP code `offset_steps` from now, remembered as used (a test that types one must say so)."""
        totp = pyotp.TOTP(self.totp_secret)
        step = totp.timecode(datetime.now(UTC)) + offset_steps
        self.used_steps.add(step)
        return totp.generate_otp(step)


@pytest.fixture(scope="session")
def admin(running_app) -> Credentials:
    return Credentials(running_app.admin_email, running_app.admin_password)


@pytest.fixture(scope="session")
def admin_settled(running_app, admin, browser) -> Credentials:
    """The admin after the first-run password is chosen (once per run), so that data seeded as them is theirs."""
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, running_app, admin.email, admin.password, admin.second_factor)
    if "first=1" in page.url:
        choose_first_password(page, admin)
    context.close()
    return admin


def run_beside_app(app: RunningApp, *args: str, **env: str) -> dict:
    """`python *args` in a process of its own against the running app's database, Redis and simulator (tests seed
    data through the app's own services this way). Returns its last stdout line when that is a JSON object."""
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "MIRAGE_APP_DATABASE_URL")}
    base.update({k: str(v) for k, v in app.runtime().items()})
    base.update(
        MIRAGE_SECRET_KEY="browser-test-secret",
        MIRAGE_DATA_DIR=str(app.data_dir),
        MIRAGE_PUBLIC_URL=app.api_url,  # where the simulator sends a scanned number's webhooks
        **env,
    )
    done = subprocess.run(
        [sys.executable, *args], cwd=PROJECT_ROOT, env=base, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}


def sign_in(
    page, app: RunningApp, email: str, password: str, code: str | Callable[[], str | None] | None = None
) -> None:
    """Sign in; `code` is the second factor, or what makes it (`Credentials.second_factor`), called only once the
    code field is on screen so that a TOTP code is as fresh as can be when the server checks it."""
    from playwright.sync_api import expect

    page.goto(app.url + "/login")
    page.locator("#login-email").fill(email)
    page.locator("#login-password").fill(password)
    page.locator("#login-submit").click()
    if callable(code):  # made once the page asks for it (two-factor off: the shell opens instead)
        field = page.locator("#login-code")
        expect(field.or_(page.locator("#sidebar")).first).to_be_visible(timeout=30_000)
        code = code() if field.is_visible() else None
    if code is not None:
        page.locator("#login-code").fill(code)
        page.locator("#login-verify").click()
    expect(page.locator("#sidebar")).to_be_visible(timeout=30_000)


@pytest.fixture
def admin_page(page, running_app, admin):
    """A page signed in as the admin. Once MFA is on, each sign-in spends a recovery code, then TOTP steps (see
    `Credentials.second_factor`): TOTP codes are single-use per 30 s step, and tests sign in faster than that."""
    sign_in(page, running_app, admin.email, admin.password, admin.second_factor)
    if "first=1" in page.url:  # nobody chose the first-run password yet (this test runs without test_auth before it)
        choose_first_password(page, admin)
    return page


def switch_language(page, name: str) -> None:
    """Choose the page's language in the sidebar (opening the navigation drawer first at phone width)."""
    select = page.locator("#language-select")
    narrow = (page.viewport_size or {}).get("width", 1440) <= DRAWER_BELOW
    if narrow and not select.is_visible():
        page.locator("#nav-toggle").click()
    select.click()
    page.get_by_role("option", name=name).click()


def choose_first_password(page, admin: Credentials, new_password: str = "Aurora-Borealis-2026!") -> None:
    from playwright.sync_api import expect

    page.locator("#current-password").fill(admin.password)
    page.locator("#new-password").fill(new_password)
    page.locator("#confirm-password").fill(new_password)
    page.locator("#change-password").click()
    expect(page.get_by_text("Senha alterada")).to_be_visible()
    admin.password = new_password


def daytime_zone(now: datetime | None = None) -> str:
    """A fixed-offset IANA zone in which it is now between 12:00 and 13:00, so a test that drives the real engine
    on the real clock sits in the middle of the day's windows (outreach dayparts are 08:00-22:00, and the tick
    starts no round in a window's last 15 minutes) whatever hour the suite runs at."""
    hour = (now or datetime.now(UTC)).hour
    offset = (12 - hour + 12) % 24 - 12  # -11 .. +12 hours from UTC
    # POSIX-style names invert the sign: Etc/GMT-3 is UTC+3.
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def engine_friendly_tenant(page, app: RunningApp, zone: str, **fields: str) -> None:
    """On the tenant settings tab: the given time zone, no quiet hours, no humanised waits (admin with MFA: these
    make pacing less safe), plus any other `#tenant-<field>` values; saved, with no error shown."""
    from playwright.sync_api import expect

    page.goto(app.url + "/settings?tab=tenant")
    for switch in ("#tenant-quiet_hours_enabled", "#tenant-humanize"):
        toggle = page.locator(switch)
        expect(toggle).to_be_visible(timeout=30_000)
        if toggle.get_attribute("data-state") == "checked":
            toggle.click()
    page.locator("#tenant-timezone").fill(zone)
    for name, value in fields.items():
        page.locator(f"#tenant-{name}").fill(value)
    page.locator("#tenant-save").click()
    # The toast proves the server applied the save: moving on earlier would drop the event with the websocket.
    expect(page.get_by_text(re.compile(r"^(Alterações salvas|Changes saved)"))).to_be_visible(timeout=30_000)
    expect(page.locator("#tenant-error")).to_have_count(0)
    page.reload()
    expect(page.locator("#tenant-timezone")).to_have_value(zone, timeout=30_000)


def set_language_cookie(page, url: str, code: str) -> None:
    """The page's language for the next navigation, as the sidebar's picker stores it (the `mirage_locale` cookie)."""
    page.context.add_cookies([{"name": "mirage_locale", "value": code, "url": url}])


def screenshot(page, folder: str, name: str, widths=WIDTHS, settle_ms: int = 600, part=None) -> dict[int, int]:
    """A full-page screenshot at each width, `screenshots/<folder>/<name>-<width>.png` (and `<name>-<width>-section`
    of the locator `part` when given); the viewport is put back after. Returns how many pixels the page scrolls
    sideways at each width."""
    target = SCREENSHOTS / folder
    target.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size or {"width": WIDTHS[0], "height": 900}
    sideways = {}
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900 if width > DRAWER_BELOW else 844})
        page.wait_for_timeout(settle_ms)  # the layout, fonts and transitions after a resize
        page.screenshot(path=str(target / f"{name}-{width}.png"), full_page=True)
        if part is not None:
            part.screenshot(path=str(target / f"{name}-{width}-section.png"))
        sideways[width] = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    page.set_viewport_size(before)
    return sideways


def app_db(app: RunningApp, sql: str, **params) -> list:
    """`sql` on the running app's database as its owner (for what no screen shows: ids, stored times, archives);
    the rows it returns, writes committed."""
    engine = sa.create_engine(app.runtime()["DATABASE_URL"])
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(sql), params)
            return result.all() if result.returns_rows else []
    finally:
        engine.dispose()


def enrol_mfa(page, app: RunningApp, admin: Credentials, wrong_code: str | None = None) -> None:
    """Two-factor turned on from the security tab as a person does it: start, read the secret, type a code, keep the
    ten recovery codes (in `admin`). `wrong_code` is typed first and must be refused."""
    from playwright.sync_api import expect

    page.goto(app.url + "/settings?tab=security")
    expect(page.locator("#mfa-start")).to_be_visible(timeout=30_000)
    page.locator("#mfa-start").click()
    secret = page.locator("#mfa-secret").inner_text(timeout=30_000).strip()
    if wrong_code is not None:
        page.locator("#mfa-code").fill(wrong_code)
        page.locator("#mfa-confirm").click()
        expect(page.locator("#mfa-error")).to_be_visible(timeout=30_000)
    admin.totp_secret = secret
    page.locator("#mfa-code").fill(admin.totp_at())
    page.locator("#mfa-confirm").click()
    codes = page.locator("#recovery-codes code")
    expect(codes).to_have_count(10, timeout=30_000)
    admin.recovery_codes = [c.strip() for c in codes.all_inner_texts()]


@pytest.fixture(scope="session")
def admin_mfa(running_app, admin_settled, browser) -> Credentials:
    """The admin with two-factor on, which sensitive actions and seeding as them need: turned on here unless a test
    of the run already did (test_auth enrols on purpose). Session-scoped, so it runs before `admin_page` signs in."""
    if not admin_settled.totp_secret:
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, running_app, admin_settled.email, admin_settled.password)
        enrol_mfa(page, running_app, admin_settled)
        context.close()
    return admin_settled


def demo_created_pattern(code: str) -> re.Pattern:
    """The demo loader's summary line in a language, its counts as any number."""
    text = catalog(code)["metrics.demo_created"]
    return re.compile(re.sub(r"\\\{[a-z_]+\\\}", r"\\d+", re.escape(text)))


@pytest.fixture(scope="session")
def demo_loaded(running_app, admin_settled, browser) -> None:
    """The demo data (numbers with two weeks of history, a running conversation, a policy), loaded once per run by
    the /metrics button. Nothing else in the suite loads it, so this click is the run's first and its summary says
    what it created."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
    page = context.new_page()
    set_language_cookie(page, running_app.url, "pt-BR")
    sign_in(page, running_app, admin_settled.email, admin_settled.password, admin_settled.second_factor)
    page.goto(running_app.url + "/metrics")
    # A cold dev server bundles plotly on the first visit to /metrics: give it time.
    expect(page.locator("#load-demo")).to_be_visible(timeout=180_000)
    page.locator("#load-demo").click()
    summary = page.locator("#demo-summary")
    expect(summary).to_contain_text(demo_created_pattern("pt-BR"), timeout=120_000)
    texts = catalog("pt-BR")
    said = [t for key, t in texts.items() if key.startswith("demo.changed.") or key == "metrics.demo_unchanged"]
    expect(summary).to_contain_text(re.compile("|".join(re.escape(t) for t in said)))  # which settings it changed
    context.close()
