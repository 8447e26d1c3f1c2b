"""CSV rows checked against the lab's policy settings before anything is written.

A village lab allows only agencies and villages as units, and only civil servants as
initiators: ``import`` and ``create`` list every row the lab would refuse -- a unit kind, an
initiator, an unknown unit, a taken id, an attribute value -- with its file, line and column,
and write nothing (exit 2).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from labflow import cli

POLICY = """\
id = "desa"
extends = "lan-5d"
name = "Village lab"

[settings]
unit_kinds = ["agency", "village"]
government_kinds = ["agency", "village"]
initiators = ["asn"]
"""
ACTORS = "id,name,roles,unit\nsek,Sekretariat,secretariat,\n"
UNITS = "id,name,kind\nbappeda,Bappeda,agency\n"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "desa.db"
    code, _, err = run(
        "create", "--db", str(path), "--id", "desa", "--region", "Desa",
        "--policy", write(tmp_path, "desa.toml", POLICY),
        "--actors", write(tmp_path, "actors.csv", ACTORS),
        "--units", write(tmp_path, "units.csv", UNITS), "--by", "sek",
    )  # fmt: skip
    assert code == cli.EXIT_OK, err
    return path


def count(db: Path) -> tuple[int, int]:
    """The lab's units and innovations."""
    _, out, _ = run("units", "--db", str(db), "--json")
    units = len(json.loads(out))
    _, out, _ = run("list", "--db", str(db), "--json")
    return units, len(json.loads(out))


class TestUnits:
    def test_every_unit_kind_the_policy_does_not_allow_is_listed(
        self, db: Path, tmp_path: Path
    ) -> None:
        csv = write(
            tmp_path,
            "new-units.csv",
            "id,name,kind\ndesa-a,Desa A,village\nrsud,RSUD,hospital\nkopi,Koperasi,private\n"
            "bappeda,Bappeda lagi,agency\n",
        )
        code, _, err = run("import", "--units", csv, "--by", "sek", "--db", str(db))
        assert code == cli.EXIT_USAGE
        assert f"{csv}:3:kind: the unit kind 'hospital' is not one the policy desa allows" in err
        assert f"{csv}:4:kind: the unit kind 'private'" in err
        assert f"{csv}:5:id: the unit 'bappeda' is already in the lab" in err
        assert "(agency, village)" in err
        assert count(db) == (1, 0)  # desa-a, the good row, is not written either

    def test_create_refuses_a_units_file_the_policy_does_not_allow(self, tmp_path: Path) -> None:
        db = tmp_path / "baru.db"
        units = write(tmp_path, "u.csv", "id,name,kind\nrsud,RSUD,hospital\npkm,PKM,clinic\n")
        code, _, err = run(
            "create", "--db", str(db), "--id", "desa", "--region", "Desa",
            "--policy", write(tmp_path, "desa.toml", POLICY),
            "--actors", write(tmp_path, "actors.csv", ACTORS), "--units", units, "--by", "sek",
        )  # fmt: skip
        assert code == cli.EXIT_USAGE
        assert f"{units}:2:kind" in err
        assert f"{units}:3:kind" in err
        assert not db.exists()


class TestInnovations:
    def test_every_bad_row_is_listed_and_nothing_is_registered(
        self, db: Path, tmp_path: Path
    ) -> None:
        csv = write(
            tmp_path,
            "ideas.csv",
            "id,title,unit,innovators,initiator,problem,jenis\n"
            "baik,Baik,bappeda,Tim,asn,P,digital\n"
            "warga,Warga,bappeda,Tim,community,P,\n"
            "hilang,Hilang,dinas-x,Tim,asn,P,\n"
            "analog,Analog,bappeda,Tim,asn,P,analog\n",
        )
        code, _, err = run("import", "--innovations", csv, "--by", "sek", "--db", str(db))
        assert code == cli.EXIT_USAGE
        assert f"{csv}:3:initiator: the initiator 'community' is not one" in err
        assert f"{csv}:4:unit: the unit 'dinas-x' is not among the lab's units" in err
        assert f"{csv}:5:jenis: The attribute" in err
        assert f"{csv}:2" not in err
        assert count(db) == (1, 0)

    def test_units_of_the_same_import_count_and_attributes_are_kept(
        self, db: Path, tmp_path: Path
    ) -> None:
        units = write(tmp_path, "u.csv", "id,name,kind\ndesa-a,Desa A,village\n")
        ideas = write(
            tmp_path,
            "i.csv",
            "id,title,unit,innovators,initiator,problem,jenis\nide,Ide,desa-a,Tim,asn,P,digital\n",
        )
        code, _, err = run(
            "import", "--units", units, "--innovations", ideas, "--by", "sek", "--db", str(db)
        )
        assert code == cli.EXIT_OK, err
        assert count(db) == (2, 1)
        _, out, _ = run("history", "ide", "--db", str(db), "--json")
        assert json.loads(out)[0]["payload"]["attributes"] == {"jenis": "digital"}

    def test_an_id_already_registered_is_listed(self, db: Path, tmp_path: Path) -> None:
        ideas = write(
            tmp_path, "i.csv", "id,title,unit,innovators,initiator,problem\nide,I,bappeda,T,asn,P\n"
        )
        assert run("import", "--innovations", ideas, "--by", "sek", "--db", str(db))[0] == 0
        code, _, err = run("import", "--innovations", ideas, "--by", "sek", "--db", str(db))
        assert code == cli.EXIT_USAGE
        assert f"{ideas}:2:id: the innovation 'ide' is already registered" in err
