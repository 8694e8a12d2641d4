"""Screenshots for docs/walkthrough.md, taken from a real demo run in a real browser.

Runs ``fundtrace demo --no-serve`` into a temporary FUNDTRACE_HOME, adds an administrator for
the admin page, starts ``fundtrace serve`` on 127.0.0.1 at a free port, signs in with Python
Playwright driving Debian's chromium, and writes palette PNGs into docs/img/. Nothing needs
the internet: if the Swagger UI still points at its CDN (drf-spectacular's default), the
browser is answered from the locally installed ``drf_spectacular_sidecar`` files instead.

    .venv/bin/python scripts/screenshots.py [--out docs/img] [--keep]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 800}
MAX_BYTES = 400_000
MAX_HEIGHT = 3000  # px; longer pages are cut (the flow table goes on)
ETH_RUN = 6  # the demo's runs are made in order: btc 1-5, then eth "stolen USDT" fifo


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, env=env, cwd=REPO, text=True, capture_output=True, check=True)


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server did not answer at {url}")


def save_png(data: bytes, path: Path) -> None:
    """Full-colour PNG from the browser → 256-colour palette PNG (UI shots stay sharp)."""
    from PIL import Image

    img = Image.open(io.BytesIO(data)).convert("RGB")
    if img.height > MAX_HEIGHT:
        img = img.crop((0, 0, img.width, MAX_HEIGHT))
    for colours in (256, 128, 64):
        buf = io.BytesIO()
        img.quantize(colors=colours, method=Image.Quantize.MEDIANCUT).save(
            buf, "PNG", optimize=True
        )
        if buf.tell() <= MAX_BYTES:
            break
    path.write_bytes(buf.getvalue())
    print(f"  {path.relative_to(REPO)}: {img.width}x{img.height}, {buf.tell() // 1024} KB")


def sidecar_dir() -> Path | None:
    try:
        import drf_spectacular_sidecar
    except ImportError:
        return None
    return (
        Path(drf_spectacular_sidecar.__file__).parent
        / "static"
        / "drf_spectacular_sidecar"
        / "swagger-ui-dist"
    )


def offline_cdn(route) -> None:  # type: ignore[no-untyped-def]
    """Answer swagger-ui-dist CDN requests from the local sidecar package, else fail them."""
    local = sidecar_dir()
    name = route.request.url.split("?")[0].rsplit("/", 1)[-1]
    if local is not None and (local / name).is_file():
        kind = "text/css" if name.endswith(".css") else "application/javascript"
        route.fulfill(body=(local / name).read_bytes(), content_type=kind)
    else:
        route.abort()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    parser.add_argument("--keep", action="store_true", help="keep the temp FUNDTRACE_HOME")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="fundtrace-shots-"))
    env = {**os.environ, "FUNDTRACE_HOME": str(home), "FUNDTRACE_TRACE_SYNC": "1"}
    env.pop("DATABASE_URL", None)
    fundtrace = str(BIN / "fundtrace")
    server = None
    try:
        demo = run([fundtrace, "demo", "--no-serve"], env)
        password = re.search(r"password '([^']+)'", demo.stderr).group(1)  # type: ignore[union-attr]
        case_id = re.search(r"/cases/(\d+)/", demo.stderr).group(1)  # type: ignore[union-attr]
        admin_pw = secrets.token_urlsafe(12)
        run(
            [
                fundtrace,
                "createuser",
                "--noinput",
                "--username",
                "admin",
                "--email",
                "admin@example.org",
            ],
            {**env, "DJANGO_SUPERUSER_PASSWORD": admin_pw},
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [fundtrace, "serve", "--insecure", "--noreload", f"127.0.0.1:{port}"],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(f"{base}/accounts/login/")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            ctx = browser.new_context(viewport=VIEWPORT)
            ctx.route("https://cdn.jsdelivr.net/**", offline_cdn)
            page = ctx.new_page()

            def shot(name: str, full: bool = True) -> None:
                page.wait_for_load_state("networkidle")
                save_png(page.screenshot(full_page=full), args.out / name)

            page.goto(f"{base}/cases/{case_id}/")
            page.fill("#id_username", "demo")
            page.fill("#id_password", password)
            shot("01-sign-in.png", full=False)
            page.click("button[type=submit]")
            page.wait_for_selector("#sankey svg")
            page.goto(f"{base}/")
            shot("02-home.png", full=False)
            page.goto(f"{base}/cases/{case_id}/")
            page.wait_for_selector("#sankey svg .sankey-node")
            shot("03-case.png")
            page.goto(f"{base}/cases/{case_id}/?run={ETH_RUN}#sankey-section")
            page.wait_for_selector("#sankey svg .sankey-node")
            save_png(page.locator("#sankey-section").screenshot(), args.out / "04-case-sankey.png")
            page.goto(f"{base}/cases/{case_id}/runs/{ETH_RUN}/")
            page.wait_for_selector("#sankey svg .sankey-node")
            shot("05-run.png")
            page.goto(f"{base}/api/docs/")
            page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
            shot("06-api-docs.png", full=False)
            page.goto(f"{base}/api/v1/cases/{case_id}/")
            shot("07-api-case-json.png", full=False)
            ctx.close()

            admin = browser.new_context(viewport=VIEWPORT)
            page = admin.new_page()
            page.goto(f"{base}/admin/login/")
            page.fill("#id_username", "admin")
            page.fill("#id_password", admin_pw)
            page.click("input[type=submit]")
            page.goto(f"{base}/admin/transaction_tracking/auditentry/")
            shot("08-admin-audit.png", full=False)
            admin.close()
            browser.close()
        print(f"demo home: {home}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
