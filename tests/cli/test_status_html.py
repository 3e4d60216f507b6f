"""`pcli status --html FILE` against a real moto server: one self-contained page (nothing loaded
from the network) with every item, its counts, the graph and each item's last deployments;
hostile values escaped; bad paths refused before AWS is read. A headless chromium (Debian's,
driven by Playwright) loads the page, filters it, and takes the screenshot of the docs."""

from __future__ import annotations

import json
import os
import re
import shutil
from html import escape
from pathlib import Path

import boto3
import pytest
import yaml
from tests.cli.test_graph_command import fleet
from tests.cli.test_health_commands import valid

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "docs" / "images" / "status-html.png"
# Set to renew the docs' screenshot from this test's (a run leaves the tracked file alone).
UPDATE_SCREENSHOT = "PCLI_UPDATE_SCREENSHOTS"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# an orphan stack whose tags name an environment no name check ever saw
HOSTILE = "<img src=x onerror=alert(1)>\"'&</script>"
EMPTY_TEMPLATE = '{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}'
# what would make a browser fetch something: a src/href/action/url() to a network address, a
# style sheet or script linked in, an @import
FETCHES = re.compile(
    r"""(?:\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|<link\b|@import|url\(\s*["']?\s*(?:https?:)?//|<script[^>]*\ssrc\s*=""",
    re.IGNORECASE,
)


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def data_block(page: str) -> dict:
    """The page's JSON block, parsed (as the page's script parses it)."""
    found = re.search(
        r"<script type='application/json' id='fleet-data'>(.*?)</script>", page, re.DOTALL
    )
    assert found is not None
    return json.loads(found.group(1))


def break_records(moto_url: str, stack: str) -> None:
    """A record of `stack` that is not JSON: its item's records cannot be read."""
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    (bucket,) = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    key = f"records/{stack}/29991231T000000.000000Z-broken.json"
    s3.put_object(Bucket=bucket, Key=key, Body=b"{not json")


def orphan(moto_url: str, name: str, stack: str = "pcli-demo-env-gone") -> None:
    """A stack of the workspace that no spec declares: an environment named by its tags."""
    boto3.client("cloudformation", endpoint_url=moto_url, region_name="us-east-1").create_stack(
        StackName=stack,
        TemplateBody=EMPTY_TEMPLATE,
        Tags=[
            {"Key": "pcli:workspace", "Value": "demo"},
            {"Key": "pcli:kind", "Value": "environment"},
            {"Key": "pcli:environment", "Value": name},
        ],
    )


@pytest.fixture
def clean_fleet(cli, tmp_path, write_files, moto_url):
    """Two environments, a service with an instance in each and a pipeline (test_graph_command);
    qa's spec changed (pending) and an orphan environment `old`."""
    fleet(cli, tmp_path, write_files)
    spec = cli.workspace / "environments" / "qa.yaml"
    document = yaml.safe_load(spec.read_text())
    document["spec"] = {"team": "platform"}  # the spec differs from the stack: qa is pending
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    return cli


@pytest.fixture
def page_fleet(clean_fleet, moto_url):
    """The clean fleet, with an orphan whose name is markup and web-dev's records unreadable."""
    orphan(moto_url, HOSTILE, "pcli-demo-env-evil")
    break_records(moto_url, "pcli-demo-svc-web-web-dev")
    return clean_fleet


def test_the_page_holds_every_item_its_counts_graph_and_deployments_and_nothing_to_fetch(
    page_fleet, tmp_path
):
    cli = page_fleet
    target = tmp_path / "out" / "fleet.html"
    target.parent.mkdir()
    done = ok(cli("status", "--html", str(target)))
    assert f"Wrote the fleet page to {target}" in done.stderr
    assert "KIND" in done.stdout  # the table is still printed
    page = target.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert FETCHES.search(page) is None, FETCHES.search(page)
    assert "Content-Security-Policy" in page
    assert "default-src 'none'" in page

    # the same rows and counts as status --json, escaped in the JSON block as well
    status = json.loads(ok(cli("status", "--json")).stdout)
    data = data_block(page)
    assert data["workspace"] == "demo"
    assert data["resources"] == status["resources"]
    assert data["summary"] == status["summary"]
    assert status["summary"]["pending"] >= 1
    assert status["summary"]["orphaned"] == 1
    block = page.split("id='fleet-data'>", 1)[1].split("</script>", 1)[0]
    assert "<" not in block
    assert ">" not in block

    # every item: a table row and a graph node
    names = [row["name"] for row in status["resources"]]
    assert len(names) == 6  # dev, qa, evil, web/web-dev, web/web-qa, web
    assert page.count("<tr class='item'") == len(names)
    for name in names:
        assert f"<td>{escape(name)}</td>" in page
    assert page.count("<g class='node'") == len(names)
    for node in ("environment__dev", "service_instance__web_web_qa", "pipeline__web"):
        assert f"data-node='{node}'" in page
    assert (
        "data-source='environment__qa' data-target='service_instance__web_web_qa'" in page
    )  # an edge, labelled with the output that flows
    assert ">TopicArn</text>" in page
    assert "<dd data-count='orphaned'>1</dd>" in page

    # the hostile value never appears raw
    assert HOSTILE not in page
    assert "<img" not in page
    assert escape(HOSTILE) in page

    last_deployments(page)
    json_and_stdout(cli, target, page)


def last_deployments(page: str) -> None:
    """web-qa's record is read, web-dev's cannot be (and the page still renders)."""
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r"<tr class='item'.*?<td>[^<]*</td><td>([^<]*)</td>(.*?)</tr>", page)
    }
    assert "<details><summary><span class='ok'>ok</span>" in rows["web/web-qa"]
    assert "(current)" in rows["web/web-qa"]
    assert "records could not be read" in rows["web/web-dev"]
    assert "web-dev/29991231T000000.000000Z-broken.json: not a JSON document" in rows["web/web-dev"]
    assert "<details>" in rows["web/web-dev"]  # the record that could be read is still shown
    assert "none recorded" in rows[escape(HOSTILE)]


def json_and_stdout(cli, target: Path, page: str) -> None:
    """--json names the page and stays valid against its schema; --html - prints the page."""
    again = ok(cli("status", "--json", "--html", str(target), "--env", "qa"))
    document = valid(again.stdout, "status")
    assert document["html"] == str(target)
    filtered = data_block(target.read_text())
    assert {row["environment"] for row in filtered["resources"]} == {"qa"}
    assert "(filtered: <code>--env qa</code>)" in target.read_text()

    printed = ok(cli("status", "--html", "-", "--health"))
    assert printed.stdout.startswith("<!DOCTYPE html>")
    assert "KIND" not in printed.stdout.split("<body>")[0]
    assert "<th scope='col'>HEALTH</th>" in printed.stdout
    assert "HEALTH" not in page


def test_an_empty_workspace_makes_a_page_that_says_so(cli, tmp_path):
    done = ok(cli("status", "--html", str(tmp_path / "fleet.html")))
    page = (tmp_path / "fleet.html").read_text()
    assert "Nothing declared or deployed here." in page
    assert "<dd data-count='pending'>0</dd>" in page
    assert data_block(page)["resources"] == []
    assert "Wrote the fleet page to" in done.stderr


def test_a_folder_that_is_missing_or_not_writable_is_a_usage_error(cli, tmp_path):
    missing = tmp_path / "no" / "such" / "fleet.html"
    refused = cli("status", "--html", str(missing))
    assert refused.exit_code == 2, refused.output
    assert f"the folder {missing.parent} does not exist" in refused.stderr
    assert "mkdir -p" in refused.stderr
    assert "Traceback" not in refused.output
    assert not (tmp_path / "no").exists()  # nothing made on the way

    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    refused = cli("status", "--html", str(a_file / "fleet.html"))
    assert refused.exit_code == 2, refused.output
    assert f"{a_file} is not a folder" in refused.stderr

    refused = cli("status", "--html", str(tmp_path))
    assert refused.exit_code == 2, refused.output
    assert "is a folder" in refused.stderr

    refused = cli("status", "--html", "-", "--json")
    assert refused.exit_code == 2, refused.output
    assert "--html - and --json both print to stdout" in refused.stderr

    if os.geteuid() != 0:  # root writes anywhere the permissions say it may not
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        refused = cli("status", "--html", str(locked / "fleet.html"))
        assert refused.exit_code == 2, refused.output
        assert f"the folder {locked} is not writable" in refused.stderr
    elif Path("/proc/self").is_dir():  # a folder even root cannot create a file in
        refused = cli("status", "--html", "/proc/fleet.html")
        assert refused.exit_code == 2, refused.output
        assert "--html /proc/fleet.html: cannot write the page" in refused.stderr
        assert "Traceback" not in refused.output


def test_a_browser_loads_the_page_filters_it_and_counts_follow(clean_fleet, moto_url, tmp_path):
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no chromium at {CHROMIUM} (scripts/test installs it with apt-get as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    orphan(moto_url, "old")
    target = tmp_path / "fleet.html"
    ok(clean_fleet("status", "--html", str(target)))
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            watch(page, problems)
            page.goto(target.as_uri())
            filter_and_count(page)
            page.click("button[type=reset]")
            page.wait_for_function("document.querySelector('#shown strong').textContent === '6'")

            page.locator("tr.item details").first.locator("summary").click()
            shot = tmp_path / "status-html.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 0
            if os.environ.get(UPDATE_SCREENSHOT):  # the docs' copy, renewed on purpose only
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(shot, SCREENSHOT)

            # a name that is markup is shown as text, and runs nothing
            orphan(moto_url, HOSTILE, "pcli-demo-env-evil")
            ok(clean_fleet("status", "--html", str(target)))
            page.goto(target.as_uri())
            page.fill("#f-text", "onerror")
            assert page.locator("#shown [data-count='total']").text_content() == "1"
            cell = page.locator("#fleet tbody tr.item:visible td").nth(1)
            assert cell.text_content() == HOSTILE
            assert page.locator("#fleet img").count() == 0
        finally:
            browser.close()
    assert problems == []


def watch(page, problems: list[str]) -> None:
    """Collect console errors and warnings, page errors, dialogs and any request that is not
    the file itself."""
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: problems.append(f"dialog: {d.message}"))
    page.on("request", lambda r: None if r.url.startswith("file:") else problems.append(r.url))


def filter_and_count(page) -> None:
    """Rows hide, counts change and the graph dims as the filters change."""
    rows = page.locator("#fleet tbody tr.item")
    total = page.locator("#shown [data-count='total']")
    assert rows.count() == 6
    assert total.text_content() == "6"

    page.select_option("#f-env", "qa")
    assert total.text_content() == "2"  # qa and web-qa
    assert page.locator("#fleet tbody tr.item:visible").count() == 2
    assert page.locator("[data-count='pending']").text_content() == "1"
    assert "dim" in (page.get_attribute("[data-node='environment__dev']", "class") or "")
    assert "dim" not in (page.get_attribute("[data-node='environment__qa']", "class") or "")

    page.select_option("#f-env", "")
    page.check("#f-orphaned")
    assert total.text_content() == "1"
    assert page.locator("#fleet tbody tr.item:visible td").nth(1).text_content() == "old"
    page.uncheck("#f-orphaned")

    page.select_option("#f-kind", "pipeline")
    assert total.text_content() == "1"
    page.select_option("#f-kind", "")

    page.fill("#f-text", "web-dev")
    assert total.text_content() == "1"
    page.fill("#f-text", "nothing-matches-this")
    assert total.text_content() == "0"
    assert page.locator("#none-shown").is_visible()
