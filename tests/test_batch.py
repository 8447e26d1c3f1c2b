"""examples/batch: the cohort imported from CSV, run to the festival, exported as expected."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType

import structlog

ROOT = Path(__file__).resolve().parent.parent
BATCH = ROOT / "examples" / "batch"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_batch_run", BATCH / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_outputs_equal_the_expected_files(tmp_path: Path) -> None:
    """iid.csv and kipp.json equal the files worked out by hand in examples/batch/expected."""
    with structlog.testing.capture_logs():
        load().run(tmp_path)
    for name in ("iid.csv", "kipp.json"):
        expected = (BATCH / "expected" / name).read_text(encoding="utf-8")
        assert (tmp_path / name).read_text(encoding="utf-8") == expected, name


def test_expected_facts(tmp_path: Path) -> None:
    """The facts the expected files hold, stated one by one: dates, stages, what is missing."""
    with structlog.testing.capture_logs():
        result = load().run(tmp_path)
    rows = {r["id_inovasi"]: r for r in csv.DictReader(io.StringIO(
        (tmp_path / "iid.csv").read_text(encoding="utf-8")))}  # fmt: skip
    assert len(rows) == 6
    # launched at one ceremony on 17 July 2017, shown at the festival on 26 November 2017
    assert {r["tanggal_uji_coba"] for r in rows.values()} == {"2017-07-17"}
    shown = {i for i, r in rows.items() if r["tanggal_penerapan"] == "2017-11-26"}
    assert shown == {"ayam-kate-mas", "gemas-pesulan", "gemma-babs", "seribu-bank-sampah"}
    assert {rows[i]["tahapan"] for i in ("gendis-mamas", "halo")} == {"Uji coba"}
    # only Gemas Pesulan has every attribute and a design of 300 words or more
    assert [e.innovation for e in result.iid if e.ready] == ["gemas-pesulan"]
    assert "Belum ada bukti dukung" in rows["halo"]["kekurangan"]
    assert rows["gendis-mamas"]["tujuan"] == ""
    kipp = {e["innovation"]: e for e in json.loads((tmp_path / "kipp.json").read_text())}
    assert {i for i, e in kipp.items() if e["eligible"]} == shown
    assert [r["code"] for r in kipp["halo"]["reasons"]] == ["kipp.not_in_use"]
    assert all(v.ok for v in result.lab.verify())
