"""Every bundled sample -- the example cohorts, their runs and ``labflow demo`` -- matches the
facts of the five source articles.

The samples stand for real regions, so a user reading them learns something about those
regions; they must not teach anything the sources contradict. `FACTS` is the table: each
fact, the article it comes from, the article's words, and the check on the samples. The
articles themselves are not shipped; set ``LABFLOW_SOURCES`` to the folder holding them
(files ``000_097247e43efbab46.txt`` ... ``004_672d5d536c91e92f.txt``) and
`test_each_quote_is_in_its_article` also checks every quote word for word.

Facts no source gives are marked illustrative in the data (``source = illustrative``) and
the READMEs; two dates come from the project's domain notes, not the articles (`DOMAIN`).
"""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import sys
import tomllib
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest
import structlog

import labflow as lf
from labflow._samples import WIB, WORKING_HOURS, load_booths, load_cohort, run_demo
from labflow.store.memory import MemoryStore

#: The unit kinds of the regional government, as the CSV files write them.
GOVERNMENT = {k.value for k in lf.GOVERNMENT_KINDS}

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

#: The five articles (DOMAIN.md, "Sources").
ARTICLES = {
    "antara-kudus-2017": "000_097247e43efbab46.txt",
    "gnfi-kudus-2017": "001_f11d3b5aed8bdb7a.txt",
    "suara-merdeka-kebumen-2016": "002_4d53d6cc997b468f.txt",
    "kudus-regency-2019": "003_c790d8e1419e521d.txt",
    "radar-banyumas-2017": "004_672d5d536c91e92f.txt",
}
#: Not in the articles: the project's domain notes (DOMAIN.md) and issue 12.
DOMAIN = "domain-notes"


# --- The samples, run once ------------------------------------------------------------------


def _example(region: str) -> ModuleType:
    name = f"example_{region}_run"  # the name tests/test_examples.py uses: loaded once
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / region / "run.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_RUNS: dict[str, Any] = {}


def example(region: str) -> Any:
    """The outcome of ``examples/<region>/run.py`` (``kudus-2019``: its ``run_2019``)."""
    if region not in _RUNS:
        with structlog.testing.capture_logs():
            if region == "kudus-2019":
                _RUNS[region] = _example("kudus").run_2019()
            else:
                _RUNS[region] = _example(region).run()
    return _RUNS[region]


def demo(region: str) -> lf.Lab:
    """The lab ``labflow demo --region <region>`` leaves behind."""
    key = f"demo-{region}"
    if key not in _RUNS:
        store = MemoryStore()
        with structlog.testing.capture_logs():
            run_demo(store, region)
        _RUNS[key] = store.load(region)
    result: lf.Lab = _RUNS[key]
    return result


def rows(region: str, table: str) -> list[dict[str, str]]:
    with (EXAMPLES / region / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def named(region: str, table: str) -> set[str]:
    return {r["id"] for r in rows(region, table) if r["source"] == "named"}


def idea(region: str, ident: str) -> dict[str, str]:
    (row,) = [r for r in rows(region, "innovations") if r["id"] == ident]
    return row


def local(moment: datetime) -> datetime:
    return moment.astimezone(WIB)


def events(lab: lf.Lab, kind: str) -> list[lf.Event]:
    found = [e for e in lab.history if e.kind == kind]
    for inn in lab.innovations.values():
        found.extend(e for e in inn.history if e.kind == kind)
    return found


def exhibits(lab: lf.Lab) -> dict[str, lf.Exhibit]:
    return {i.id: i.exhibit for i in lab.innovations.values() if i.exhibit is not None}


def booths(lab: lf.Lab) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for ident, exhibit in exhibits(lab).items():
        found.setdefault(exhibit.booth, set()).add(ident)
    return found


def show(lab: lf.Lab) -> lf.views.ExhibitionView:
    """The one exhibition of a sample lab, as `labflow.views.exhibition` shows it."""
    (ident,) = lab.exhibitions
    return lf.views.exhibition(lab, ident)


def government(lab: lf.Lab, ident: str) -> bool:
    return lab.units[lab.innovation(ident).unit].kind.government


# --- The facts --------------------------------------------------------------------------------


@attrs.frozen
class Fact:
    """One fact: where it comes from, the article's words, and the check on the samples."""

    id: str
    source: str  #: a key of `ARTICLES`, or `DOMAIN`
    quote: str  #: the article's words ("" for `DOMAIN`)
    check: Callable[[], None]


FACTS: list[Fact] = []


def fact(ident: str, source: str, quote: str = "") -> Callable[[Callable[[], None]], None]:
    def register(check: Callable[[], None]) -> None:
        FACTS.append(Fact(ident, source, quote, check))

    return register


# Kebumen 2016 -- Suara Merdeka.

KEBUMEN = "suara-merdeka-kebumen-2016"


@fact("kebumen: 182 innovations launched at one ceremony", KEBUMEN, "182 jenis inovasi")
def _() -> None:
    assert len(rows("kebumen", "innovations")) == 182
    for lab in (example("kebumen").lab, demo("kebumen")):
        (ceremony,) = events(lab, "lab.ceremony_held")
        assert len(ceremony.payload["launched"]) == 182
        assert ceremony.payload["refused"] == {}
        assert sum(i.launch is not None for i in lab.innovations.values()) == 182


@fact(
    "kebumen: the performance agreements signed right after the launch",
    KEBUMEN,
    "Acara dilanjutkan dengan penandatanganan naskah perjanjian kinerja inovasi antara bupati",
)
def _() -> None:
    late = {"toga-keluarga"}  # the example's one head who signs six weeks late
    for lab, allowed in ((example("kebumen").lab, late), (demo("kebumen"), set())):
        for inn in lab.innovations.values():
            assert inn.launch is not None
            assert inn.agreement is not None
            for signature in inn.agreement.signatures:
                assert signature.at >= inn.launch.at, inn.id
                if inn.id not in allowed:
                    assert local(signature.at).date() == local(inn.launch.at).date(), inn.id


@fact(
    "kebumen: four stages, drum-up and diagnose as one", KEBUMEN, "tahap I (drump up and diagnose)"
)
def _() -> None:
    for lab in (example("kebumen").lab, demo("kebumen")):
        assert [tuple(stage.covers) for stage in lab.policy.stages] == [
            ("drum_up", "diagnose"),
            ("design",),
            ("deliver",),
            ("display",),
        ]


@fact(
    "kebumen: MUTTU 1000 (land certificates for 1,000 small businesses) by Bagian Tapem",
    KEBUMEN,
    "MUTTU 1000 (MoU sertifikat tanah untuk 1.000 UMKM) oleh Bagian Tapem Setda",
)
def _() -> None:
    row = idea("kebumen", "muttu-1000")
    assert (row["unit"], row["source"]) == ("bag-tapem", "named")
    assert "1.000 UMKM" in row["problem"]
    assert "sertifikat tanah" in row["problem"]


@fact("kebumen: Siperi by BPMPT", KEBUMEN, "Siperi oleh BPMPT")
def _() -> None:
    row = idea("kebumen", "siperi")
    assert (row["title"], row["unit"], row["source"]) == ("Siperi", "bpmpt", "named")


@fact(
    "kebumen: ELEGAN (electronic legal drafting) by Bagian Hukum",
    KEBUMEN,
    "ELEGAN (elektronik legal drafting) oleh Bagian Hukum Setda",
)
def _() -> None:
    row = idea("kebumen", "elegan")
    assert (row["unit"], row["source"]) == ("bag-hukum", "named")
    assert "legal drafting" in row["title"].casefold()


@fact(
    "kebumen: agreements with SKPD, UPT Puskesmas, RSUD and BUMD heads",
    KEBUMEN,
    "kepala SKPD, kepala UPT Puskesmas, serta Direktur RSUD dan Direktur BUMD",
)
def _() -> None:
    kinds = {r["kind"] for r in rows("kebumen", "units")}
    assert {"agency", "clinic", "hospital", "enterprise"} <= kinds


@fact(
    "kebumen: only the units and innovations the article names are marked named",
    KEBUMEN,
    "Bagian Hukum Setda",
)
def _() -> None:
    assert named("kebumen", "units") == {"bag-tapem", "bag-hukum", "bpmpt"}
    assert named("kebumen", "innovations") == {"muttu-1000", "siperi", "elegan"}
    assert "rsud-soedirman" not in named("kebumen", "units")  # the article says "RSUD" only


@fact(
    "kebumen: launched by the Bupati, Mohammad Yahya Fuad",
    KEBUMEN,
    "Bupati Kebumen Mohammad Yahya Fuad",
)
def _() -> None:
    lab = example("kebumen").lab
    assert "Mohammad Yahya Fuad" in lab.actors["bupati"].name
    assert all(
        i.launch is not None and i.launch.launched_by == "bupati" for i in lab.innovations.values()
    )


# Kudus 2017 -- ANTARA and GNFI.

ANTARA, GNFI = "antara-kudus-2017", "gnfi-kudus-2017"
RSUD = ("k-119", "layanan-hemodialisis", "layanan-kesehatan-jiwa")


@fact("kudus: 30 booths at the exhibition", ANTARA, "dari 30 gerai inovasi yang ditampilkan")
def _() -> None:
    table = rows("kudus", "booths")
    assert len(table) == 30
    assert len({r["unit"] for r in table}) == 30
    assert len(example("kudus").booths) == 30
    for lab in (example("kudus").lab, demo("kudus")):
        assert len(show(lab).booths) == 30
        assert all(b.innovations or b.showcases for b in show(lab).booths)  # each shows some


@fact(
    "kudus: RSUD Loekmono Hadi's booth shows K-119, hemodialysis and mental-health care",
    ANTARA,
    "tampak gerai milik RSUD Loekmono Hadi Kudus yang memiliki inovasi andalan lewat program "
    "layanan medis darurat (K-119), hemodialisa, dan orang dengan gangguan jiwa",
)
def _() -> None:
    for ident in RSUD:
        assert idea("kudus", ident)["unit"] == "rsud-loekmono-hadi"
        assert idea("kudus", ident)["source"] == "named"
    assert "rsud-loekmono-hadi" in named("kudus", "units")
    assert "Hemodialisa" in idea("kudus", "layanan-hemodialisis")["title"]
    assert "Gangguan Jiwa" in idea("kudus", "layanan-kesehatan-jiwa")["title"]
    booth = load_booths("kudus")["rsud-loekmono-hadi"]
    for lab in (example("kudus").lab, demo("kudus")):
        assert booths(lab)[booth] == set(RSUD)
        (gerai,) = [b for b in show(lab).booths if b.id == booth]
        assert gerai.holder == "rsud-loekmono-hadi"
        assert set(gerai.innovations) == set(RSUD)


@fact(
    "kudus: the exhibition ran 21-22 December 2017, from a Thursday",
    ANTARA,
    "digelar selama dua hari, yakni 21-22 Desember 2017",
)
def _() -> None:
    days = {date(2017, 12, 21), date(2017, 12, 22)}
    assert date(2017, 12, 21).strftime("%A") == "Thursday"  # the article's "Kamis"
    for lab in (example("kudus").lab, demo("kudus")):
        view = show(lab)
        assert (view.starts, view.ends) == ("2017-12-21", "2017-12-22")
        assert "Pendopo Kabupaten Kudus" in view.venue  # GNFI: "di halaman pendopo"
        for exhibit in exhibits(lab).values():
            assert local(exhibit.registered_at).date() in days
            assert "21-22 Desember 2017" in exhibit.event
            assert exhibit.exhibition == view.id


@fact(
    "kudus: Desa Cerdas and the Command Center launched at the exhibition",
    ANTARA,
    "rencananya juga akan diluncurkan inovasi 'Desa Cerdas' dan 'Command Center'",
)
def _() -> None:
    assert named("kudus", "innovations") >= {"desa-cerdas", "command-center"}
    for lab in (example("kudus").lab, demo("kudus")):
        for ident in ("desa-cerdas", "command-center"):
            launch = lab.innovation(ident).launch
            assert launch is not None
            assert local(launch.at).date() == date(2017, 12, 21)
            assert "Pameran" in launch.ceremony
            assert launch.exhibition == show(lab).id
            assert lab.innovation(ident).exhibit is not None
        assert set(show(lab).launched) == {"desa-cerdas", "command-center"}


@fact(
    "kudus: the lab's four working stages, each on its own",
    ANTARA,
    "laboratorium inovasi pelayanan di Kudus sudah melaksanakan empat tahapan yaitu drum up, "
    "diagnose, design dan deliver",
)
def _() -> None:
    for lab in (example("kudus").lab, demo("kudus")):
        assert [tuple(s.covers) for s in lab.policy.stages][:4] == [
            ("drum_up",),
            ("diagnose",),
            ("design",),
            ("deliver",),
        ]


@fact(
    "kudus: community, private, academic and vertical exhibitors, never launched by the regent",
    ANTARA,
    "inovasi yang dihasilkan oleh masyarakat maupun komunitas, sektor swasta serta dunia "
    "pendidikan atau akademisi",
)
def _() -> None:
    kinds = {r["kind"] for r in rows("kudus", "units")}
    assert {"community", "private", "academia", "vertical"} <= kinds
    outside_units = {r["id"] for r in rows("kudus", "units") if r["kind"] not in GOVERNMENT}
    outside_titles = {
        r["title"] for r in rows("kudus", "innovations") if r["unit"] in outside_units
    }
    assert len(outside_units) == 11
    for lab in (example("kudus").lab, demo("kudus")):
        (exhibition,) = lab.exhibitions.values()
        # registered for the exhibition only: no unit of the lab, no innovation lifecycle
        assert set(exhibition.exhibitors) == outside_units
        assert not outside_units & set(lab.units)
        assert all(inn.unit not in outside_units for inn in lab.innovations.values())
        held = [b for b in show(lab).booths if b.outside]
        assert {b.holder for b in held} == outside_units
        assert {t for b in held for t in b.showcases} == outside_titles
        assert all(not b.innovations for b in held)
        assert lab.history[0].at < exhibition.opened_at  # they join for the exhibition only
        (ceremony,) = events(lab, "lab.ceremony_held")
        assert all(government(lab, i) for i in ceremony.payload["launched"])


@fact(
    "kudus: vertical agencies and the private sector among the exhibitors",
    GNFI,
    "Peserta pameran mulai dari OPD (Organisasi Perangkat Daerah), instansi vertikal dan swasta",
)
def _() -> None:
    for lab in (example("kudus").lab, demo("kudus")):
        kinds = {b.holder_kind for b in show(lab).booths}
        assert {"agency", "vertical", "private"} <= kinds


SERVICES = {
    "pelayanan kependudukan",
    "pelayanan kesehatan gratis",
    "pelayanan kartu perpustakaan",
    "pelayanan BPJS Kesehatan",
    "pelayanan BPJS Ketenagakerjaan",
    "pelayanan donor darah",
    "pelayanan kartu pencari tenaga kerja",
    "pelayanan SIM online",
    "pelayanan Samsat terpadu",
}


@fact(
    "kudus: the live services, SIM online among them",
    ANTARA,
    "pelayanan donor darah, pelayanan kartu pencari tenaga kerja, pelayanan SIM online, dan "
    "pelayanan Samsat terpadu",
)
def _() -> None:
    listed = {s for r in rows("kudus", "booths") for s in r["services"].split(";") if s}
    assert listed == SERVICES
    offered = {s for ss in example("kudus").services.values() for s in ss}
    assert offered == SERVICES  # every booth offering a service was shown
    for lab in (example("kudus").lab, demo("kudus")):
        offered_there = {s for b in show(lab).booths for s in b.services}
        assert offered_there == SERVICES
        (police,) = [b for b in show(lab).booths if "pelayanan SIM online" in b.services]
        assert police.holder == "polres-kudus"
        assert police.outside
        assert idea("kudus", "sim-online")["title"] in police.showcases
    assert "SIM Online" in idea("kudus", "sim-online")["title"]
    assert idea("kudus", "sim-online")["source"] == "named"


@fact(
    "kudus: only RSUD Loekmono Hadi is a named unit (Diskominfo is not named)",
    ANTARA,
    "RSUD Loekmono Hadi Kudus",
)
def _() -> None:
    assert named("kudus", "units") == {"rsud-loekmono-hadi"}
    assert named("kudus", "innovations") == {
        *RSUD,
        "desa-cerdas",
        "command-center",
        "sim-online",
        "samsat-terpadu",
        "pelayanan-bpjs-kesehatan",
        "pelayanan-bpjs-ketenagakerjaan",
        "pelayanan-donor-darah",
    }


@fact(
    "kudus: the regent in 2017 was Musthofa Wardoyo", GNFI, "Menurut Bupati Kudus Musthofa Wardoyo"
)
def _() -> None:
    assert "Musthofa Wardoyo" in example("kudus").lab.actors["bupati"].name


@fact("kudus: the launch workshop on 26 July 2017, after the MoU of August 2016", DOMAIN)
def _() -> None:
    for lab in (example("kudus").lab, demo("kudus")):
        assert local(lab.history[0].at).date() >= date(2016, 8, 1)
        assert local(lab.history[0].at).date() < date(2016, 9, 1)
        (ceremony,) = events(lab, "lab.ceremony_held")
        assert local(ceremony.at).date() == date(2017, 7, 26)
        assert "Workshop" in ceremony.payload["ceremony"]


@fact(
    "kudus: 2016-17 runs under the 2017 rules",
    ANTARA,
    "sudah melaksanakan empat tahapan",
)
def _() -> None:
    policy = example("kudus").lab.policy
    assert policy.extends == "kudus-2017"
    assert demo("kudus").policy.id == "kudus-2017"
    assert "official" not in policy.roles  # no 2019 rule in the 2017 lab


# Kudus 2019 -- the regency's news page.

KUDUS_2019 = "kudus-regency-2019"


@fact(
    "kudus 2019: one public official, one innovation (a separate scenario)",
    KUDUS_2019,
    "pihaknya juga mencanangkan satu pejabat publik, satu inovasi",
)
def _() -> None:
    result = example("kudus-2019")
    assert result.lab.policy.id == "kudus-2019"
    (refused,) = result.lab_refused
    short = [u for u in refused.unmet if u.code == "cohort.officials_short"]
    assert short
    assert {"diskominfo", "dpmptsp"} <= set(short[0].data["units"])
    assert result.lab.stage == "design"  # once they caught up


@fact(
    "kudus 2019: every agency enters its innovation data",
    KUDUS_2019,
    "diminta untuk menginput seluruh data inovasi di masing-masing OPD",
)
def _() -> None:
    result = example("kudus-2019")
    (refused,) = result.lab_refused
    assert "cohort.unit_short" in refused.codes
    lab = result.lab
    assert {i.unit for i in lab.innovations.values()} == set(lab.units)


@fact(
    "kudus 2019: announced on Monday 2 December 2019 under the acting regent HM Hartopo",
    KUDUS_2019,
    "Sosialisasi Inovasi Pelayanan Publik, yang berlangsung di Command center pada Senin (2/12)",
)
def _() -> None:
    lab = example("kudus-2019").lab
    assert local(lab.history[0].at).date() == date(2019, 12, 2)
    assert date(2019, 12, 2).strftime("%A") == "Monday"
    assert "HM Hartopo" in lab.actors["bupati"].name


# Banyumas 2017 -- Radar Banyumas.

BANYUMAS = "radar-banyumas-2017"

#: id -> (unit, words the title or problem must hold, the article's words)
BANYUMAS_NAMED = {
    "gemas-pesulan": (
        "dpu",
        "Peduli Sungai",
        "Gerakan Masyarakat Peduli Sungai (Gemas Pesulan) dari DPU",
    ),
    "roadshow-by-molin": (
        "dppkbp3a",
        "Posyandu Remaja",
        "Roadshow by Molin (Posyandu Remaja) dari DPPKBP3A",
    ),
    "gemma-babs": ("dinkes", "Buang Air Besar Sembarangan", "(Gemma BABS) dari Dinkes"),
    "krpl": (
        "dinpertan-kp",
        "Kelompok Wanita Tani",
        "KRPL di Kelompok Wanita Tani Banyumas dari Dinpertan KP",
    ),
    "gendis-mamas": ("dindik", "Pendidikan Inklusif", "(Gendis Mamas) dari Dindik"),
    "mitra-kurir-langit": (
        "dinsospermasdes",
        "Mitra Kurir Langit",
        "Mitra Kurir Langit dari Dinsospermasdes",
    ),
    "klinik-konsultasi": ("inspektorat", "Klinik Konsultasi", "Klinik Konsultasi dari Inspektorat"),
    "one-stop-service": (
        "dinperkim",
        "Pengesahan Site Plan Perumahan",
        "One Stop Service (Pelayanan Pengesahan Site Plan Perumahan) dari Dinperkim",
    ),
    "seribu-bank-sampah": ("dlh", "Seribu Bank Sampah", "Seribu Bank Sampah dari DLH"),
    "kartu-rastra": ("setda", "Beras Sejahtera", "Kartu Rastra (Beras Sejahtera) Sekda"),
    "halo": (
        "satpol-pp",
        "Hadirnya Anda Langsung Oke",
        "Hadirnya Anda Langsung Oke (HALO) Satpol PP",
    ),
    "ayam-kate-mas": (
        "dindukcapil",
        "KK lan KTP",
        "Ayo Nyampekna KK lan KTP Banyumas (Ayam Kate Mas) dari Dindukcapil",
    ),
}


def _banyumas_named(ident: str, unit: str, words: str) -> Callable[[], None]:
    def check() -> None:
        row = idea("banyumas", ident)
        assert (row["unit"], row["source"]) == (unit, "named")
        assert words in row["title"] or words in row["problem"]
        for lab in (example("banyumas").lab, demo("banyumas")):
            assert lab.innovation(ident).exhibit is not None, ident

    return check


for _ident, (_unit, _words, _quote) in BANYUMAS_NAMED.items():
    FACTS.append(
        Fact(
            f"banyumas: {_ident} by {_unit}",
            BANYUMAS,
            _quote,
            _banyumas_named(_ident, _unit, _words),
        )
    )


@fact(
    "banyumas: what the corrected innovations are",
    BANYUMAS,
    "Gerakan NAsional PEndidikan Inklusif Masyarakat Banyumas (Gendis Mamas)",
)
def _() -> None:
    assert "inklusif" in idea("banyumas", "gendis-mamas")["problem"]
    ayam = idea("banyumas", "ayam-kate-mas")["problem"]
    assert "kartu keluarga (kk)" in ayam.casefold()
    assert "KTP" in ayam
    assert "posyandu" in idea("banyumas", "roadshow-by-molin")["problem"].casefold()
    assert "site plan perumahan" in idea("banyumas", "one-stop-service")["problem"]
    assert "Kelompok Wanita Tani" in idea("banyumas", "krpl")["innovators"]


@fact(
    "banyumas: 92 innovations shown at the Alun-alun Purwokerto on Sunday 26 November 2017",
    BANYUMAS,
    "memamerkan 92 inovasi layanan publik di Alun-alun Purwokerto, Minggu (26/11)",
)
def _() -> None:
    assert date(2017, 11, 26).strftime("%A") == "Sunday"
    for lab in (example("banyumas").lab, demo("banyumas")):
        shown = exhibits(lab)
        assert len(shown) == 92
        view = show(lab)
        assert (view.starts, view.ends, view.venue) == (
            "2017-11-26",
            "2017-11-26",
            "Alun-alun Purwokerto",
        )
        assert sum(len(b.innovations) for b in view.booths) == 92
        for exhibit in shown.values():
            assert local(exhibit.registered_at).date() == date(2017, 11, 26)
            assert "Alun-alun Purwokerto" in exhibit.event
            assert exhibit.exhibition == view.id


@fact(
    "banyumas: the festival comes after the MoU and the launch",
    BANYUMAS,
    "jajaran Lembaga Administrasi Negara (LAN) atas bimbingan dan arahan",
)
def _() -> None:
    for lab in (example("banyumas").lab, demo("banyumas")):
        festival = min(e.registered_at for e in exhibits(lab).values())
        (ceremony,) = events(lab, "lab.ceremony_held")
        assert lab.history[0].at < ceremony.at < festival


@fact(
    "banyumas: only the units and innovations the article names are marked named",
    BANYUMAS,
    "Kepala Bapelitbang (Badan Perencanaan Pembangunan dan Penelitian Pengembangan)",
)
def _() -> None:
    assert named("banyumas", "innovations") == set(BANYUMAS_NAMED)
    owners = {unit for unit, _, _ in BANYUMAS_NAMED.values()}
    assert named("banyumas", "units") == owners | {"bapelitbang"}


@fact(
    "banyumas: the festival opened by the Bupati, Achmad Husein",
    BANYUMAS,
    "dibuka oleh Bupati Banyumas Ir H Achmad Husein",
)
def _() -> None:
    assert "Achmad Husein" in example("banyumas").lab.actors["bupati"].name


# The presets' own words about the regions.


@fact("presets: the regional presets' descriptions carry the sources' numbers and dates", DOMAIN)
def _() -> None:
    kebumen = lf.load_policy("kebumen-2016").description
    assert "182 innovations" in kebumen
    kudus = " ".join(lf.load_policy("kudus-2017").description.split())
    assert "26 July 2017" in kudus
    assert "21-22 December 2017" in kudus
    assert "30 booths" in kudus
    banyumas = " ".join(lf.load_policy("banyumas-2017").description.split())
    assert "92 innovations" in banyumas
    assert "26 November 2017" in banyumas


# Every region.


def _working_hours(lab: lf.Lab) -> Iterable[str]:
    """The ceremonies, launches, signatures and exhibits outside local working hours."""
    start, end = WORKING_HOURS
    for kind in (
        "lab.ceremony_held",
        "innovation.launched",
        "innovation.agreement_signed",
        "innovation.exhibit_registered",
    ):
        for event in events(lab, kind):
            moment = local(event.at)
            if not start <= moment.time() <= end:
                yield f"{event.subject} {kind} at {moment.isoformat()}"


@fact("every region: ceremonies and exhibits in local working hours (WIB)", DOMAIN)
def _() -> None:
    assert WIB.utcoffset(None) == timedelta(hours=7)
    for region in ("kebumen", "kudus", "banyumas"):
        for lab in (example(region).lab, demo(region)):
            assert list(_working_hours(lab)) == [], region


@fact("every region: every row says whether the sources name it", DOMAIN)
def _() -> None:
    for region in ("kebumen", "kudus", "banyumas"):
        for table in ("units", "innovations"):
            assert {r["source"] for r in rows(region, table)} == {"named", "illustrative"}
        assert len(load_cohort(region).ideas) == len(rows(region, "innovations"))
    assert {r["source"] for r in rows("kudus", "booths")} == {"named", "illustrative"}


@pytest.mark.parametrize("item", FACTS, ids=lambda f: f.id)
def test_sample_matches_the_sources(item: Fact) -> None:
    """Each fact of the table holds in the bundled samples."""
    assert item.source in ARTICLES or item.source == DOMAIN
    assert bool(item.quote) == (item.source != DOMAIN)
    item.check()


def _normalised(text: str) -> str:
    quotes = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}
    text = text.translate(str.maketrans(quotes))
    return re.sub(r"\s+", " ", text).casefold()


def test_each_quote_is_in_its_article() -> None:
    """Every quote of `FACTS` is word for word in its article (needs ``LABFLOW_SOURCES``)."""
    folder = os.environ.get("LABFLOW_SOURCES")
    if not folder:
        pytest.skip("set LABFLOW_SOURCES to the folder of the source articles")
    missing = []
    for item in FACTS:
        if item.source == DOMAIN:
            continue
        text = _normalised((Path(folder) / ARTICLES[item.source]).read_text(encoding="utf-8"))
        if _normalised(item.quote) not in text:
            missing.append(f"{item.id}: {item.quote!r}")
    assert missing == []


def test_the_wheel_carries_every_sample_file() -> None:
    """``labflow demo`` reads every CSV of examples/<region>/ from the wheel, for each of its
    regions (the batch example's cohort is not a demo region and stays out)."""
    from labflow._samples import REGIONS

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    carried = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    wanted = {
        f"examples/{p.parent.name}/{p.name}": f"labflow/_samples/{p.parent.name}/{p.name}"
        for region in REGIONS
        for p in (EXAMPLES / region).glob("*.csv")
    }
    assert {k: v for k, v in carried.items() if k.endswith(".csv")} == wanted
