"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against live_server."""

import os
import shutil
from pathlib import Path

import pytest

AXE = Path(__file__).parent / "vendor" / "axe-4.11.0.min.js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Chromium is needed for the browser tests: apt-get install -y chromium (or set CHROMIUM=/path)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # axe-core is injected as a script; the pages' own CSP would (rightly) refuse it
    return {**browser_context_args, "bypass_csp": True, "locale": "id-ID"}


@pytest.fixture
def axe_check():
    """Run axe-core on the current page; fail on serious or critical violations."""

    def check(page, label=""):
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"accessibility violations on {label or page.url}:\n" + "\n".join(bad)

    return check
