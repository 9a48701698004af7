"""The HTML verification report: content, order, escaping, the CLI option, and the page as
headless Chromium renders it (Debian's ``chromium``; ``pdftotext`` from poppler-utils reads
the text a person would see)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from verivote.cli import main
from verivote.demo import run_demo
from verivote.verify.html import render_html
from verivote.verify.record import verify_record


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html") / "rec"
    run_demo(voters=24, group="ed25519", out=out, seed=5, say=lambda _: None)
    return out


def _copy(record: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(record, target)
    return target


def test_valid_record_page(record):
    report = verify_record(record)
    assert report.valid and report.result is not None
    page = render_html(report, record)
    assert "VALID: every entry passed every check" in page
    assert "What failed" not in page
    # self-contained: no script, no external resource of any kind
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=|@import|url\(""", page)
    # every overall count of the verified result is on the page, with candidate names
    for contest in report.result["contests"]:
        for count in contest["overall"].values():
            assert f">{count:,}<" in page
    for name in ("Ashworth", "Begum", "Carver", "Dlamini"):
        assert name in page
    # the roll and its amendments, with their reasons; every check with its item count
    assert "barred" in page and "late-registration" in page
    assert "credentials on the published roll" in page
    assert "ballot.proof" in page and f"<td>{report.by_type['ballot']:,}</td>" in page


def test_failures_come_first_and_in_plain_words(record, tmp_path):
    bad = _copy(record, tmp_path)
    lines = (bad / "board.jsonl").read_bytes().split(b"\n")
    ballot = next(i for i, line in enumerate(lines) if line.endswith(b'"type":"ballot"}'))
    sig = re.search(rb'"sig":"([0-9a-f]{128})"', lines[ballot])
    assert sig is not None
    flipped = (b"1" if sig.group(1)[:1] == b"0" else b"0") + sig.group(1)[1:]
    lines[ballot] = lines[ballot].replace(sig.group(1), flipped)
    (bad / "board.jsonl").write_bytes(b"\n".join(lines))
    report = verify_record(bad)
    assert not report.valid
    page = render_html(report, bad)
    assert "INVALID" in page
    assert page.index("What failed") < page.index("id='result'")
    assert f"Entry {ballot} (ballot)" in page and "ballot.signature" in page
    assert "what the record claims, not what the verifier established" in page


def test_values_from_the_record_are_escaped(record, tmp_path):
    bad = _copy(record, tmp_path)
    board = bad / "board.jsonl"
    data = board.read_bytes()
    data = data.replace(b'"reason":"barred"', b'"reason":"<script>alert(1)</script>"', 1)
    board.write_bytes(data)
    page = render_html(verify_record(bad), bad)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_cli_writes_the_page(record, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["verify", str(record), "--html", str(out)]) == 0
    assert "VALID" in out.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["verify", str(record), "--html", str(tmp_path / "no" / "such" / "r.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("verivote verify: cannot write")


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


def test_page_renders_in_chromium(record, tmp_path):
    browser, pdftotext = _chromium(), shutil.which("pdftotext")
    if browser is None or pdftotext is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have chromium and pdftotext (see .ci/run)")
        pytest.skip("needs Debian's chromium and poppler-utils (pdftotext)")
    report = verify_record(record)
    page = tmp_path / "report.html"
    page.write_text(render_html(report, record), encoding="utf-8")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    pdf, png = tmp_path / "report.pdf", tmp_path / "report.png"
    run = subprocess.run(
        [browser, *flags, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert pdf.is_file() and pdf.stat().st_size > 1000, run.stderr[-2000:]
    # no console message and no failed load: the page has no script and fetches nothing
    assert "CONSOLE" not in run.stderr and "net::ERR" not in run.stderr, run.stderr[-2000:]
    text = subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "VALID: every entry passed every check" in text
    assert "Ballots over time" in text and "Every check" in text
    leader = report.result["contests"][0]["overall"]
    for count in leader.values():
        assert re.search(rf"\b{count}\b", text)
    subprocess.run(
        [browser, *flags, "--window-size=1000,1400", f"--screenshot={png}", page.as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
