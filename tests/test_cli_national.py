"""`labflow report --html` and `labflow export --format iid|iid-json|kipp` on the demo lab."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from labflow import cli
from test_cli import run


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("national") / "kebumen.db"
    code, _out, err = run("demo", "--db", str(path))
    assert code == cli.EXIT_OK, err
    return path


def test_report_html_writes_one_self_contained_page(demo_db: Path, tmp_path: Path) -> None:
    """--html writes the page (in the chosen language) besides printing the report."""
    page = tmp_path / "laporan.html"
    code, out, _ = run("report", "--db", str(demo_db), "--html", str(page), "--lang", "id")
    assert code == cli.EXIT_OK
    assert out.strip()
    text = page.read_text(encoding="utf-8")
    assert "Laporan laboratorium inovasi: Kabupaten Kebumen" in text
    assert "Seluruh riwayat terverifikasi" in text
    assert "<script" not in text


def test_report_html_to_an_unwritable_path_is_a_usage_error(demo_db: Path, tmp_path: Path) -> None:
    """A path that cannot be written is exit 2 with one sentence, not a traceback."""
    code, _, err = run("report", "--db", str(demo_db), "--html", str(tmp_path / "no" / "x.html"))
    assert code == cli.EXIT_USAGE
    assert "Traceback" not in err


def test_export_iid_is_the_index_form(demo_db: Path) -> None:
    """--format iid writes the index's columns, one row per active innovation."""
    code, out, _ = run("export", "--db", str(demo_db), "--format", "iid")
    assert code == cli.EXIT_OK
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 182
    assert {"id_inovasi", "tahapan", "tanggal_uji_coba", "jenis", "kekurangan"} <= set(rows[0])
    assert {r["tahapan"] for r in rows} <= {"Inisiatif", "Uji coba", "Penerapan"}


def test_export_iid_json_and_kipp(demo_db: Path) -> None:
    """--format iid-json and kipp write JSON arrays with each entry's missing items/reasons."""
    code, out, _ = run("export", "--db", str(demo_db), "--format", "iid-json")
    assert code == cli.EXIT_OK
    entries = json.loads(out)
    assert all("missing" in e and "ready" in e for e in entries)
    code, out, _ = run("export", "--db", str(demo_db), "--format", "kipp")
    assert code == cli.EXIT_OK
    assert all("eligible" in e and "group" in e for e in json.loads(out))
