"""labflow.cohort: a cohort's CSV read into records, or refused whole with every cell named."""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labflow import DocumentError, Initiator, Unit, UnitKind, cohort
from labflow._samples import REGIONS, load_cohort

READERS: list[Callable[[str, str], list[Any]]] = [
    cohort.read_units,
    cohort.read_innovations,
    cohort.read_actors,
]


def refused(read: Callable[[str, str], list[Any]], text: str) -> dict[str, str]:
    """The problems of a refused CSV, by path."""
    with pytest.raises(DocumentError) as info:
        read(text, "f.csv")
    return {p.path: p.message for p in info.value.problems}


@pytest.mark.parametrize("region", sorted(REGIONS))
def test_the_sample_cohorts_read(region: str) -> None:
    loaded = load_cohort(region)
    assert loaded.units
    assert loaded.ideas
    assert {i.unit for i in loaded.ideas} <= {u.id for u in loaded.units}


def test_what_a_spreadsheet_exports_reads() -> None:
    """A byte-order mark, CRLF, extra columns, reordered columns, blank and trailing cells."""
    text = (
        "\ufeffkind,id,name,source\r\n"
        "agency, dinkes ,Dinas Kesehatan,named\r\n"
        ",,,\r\n"
        '\r\nclinic,pkm-1,"Puskesmas\r\nSatu",illustrative,,\r\n'
    )
    assert cohort.read_units(text) == [
        Unit("dinkes", "Dinas Kesehatan", UnitKind.AGENCY),
        Unit("pkm-1", "Puskesmas\nSatu", UnitKind.CLINIC),  # a cell's CRLF is a newline
    ]
    ideas = cohort.read_innovations(
        "id,title,unit,innovators,problem\nk-119,K-119,dinkes,Kabid; Tim ;,Ambulans lambat\n"
    )
    assert ideas == [
        cohort.IdeaRow(
            "k-119", "K-119", "dinkes", ("Kabid", "Tim"), Initiator.ASN, "Ambulans lambat"
        )
    ]
    actors = cohort.read_actors(
        "id,name,roles,unit\ns,Sekretariat,secretariat,\nk,Kadinkes,unit_head;innovator,dinkes\n"
    )
    assert [(a.id, sorted(a.roles), a.unit) for a in actors] == [
        ("s", ["secretariat"], None),
        ("k", ["innovator", "unit_head"], "dinkes"),
    ]


def test_every_bad_cell_is_named_by_line_and_column() -> None:
    text = (
        "id,name,kind\n"
        "u1,U1,agency\n"
        "u1,U1 again,agency\n"  # line 3
        'u 2,,nonsense\n"u3","multi\nline",bad\n'  # lines 4, 5-6
        "u4,x\n"  # line 7
    )
    assert refused(cohort.read_units, text) == {
        "f.csv:3:id": "the unit 'u1' appears twice",
        "f.csv:4:id": "the unit id 'u 2' must not contain white space",
        "f.csv:4:name": "the unit's name is empty",
        "f.csv:4:kind": refused(cohort.read_units, "id,name,kind\nu,U,nonsense\n")["f.csv:2:kind"],
        "f.csv:5:kind": refused(cohort.read_units, "id,name,kind\nu,U,bad\n")["f.csv:2:kind"],
        "f.csv:7": "the row has 2 fields; the header has 3",
    }
    ideas = "id,title,unit,innovators,initiator,problem\na,,dinkes,Tim,robot,M\nb,B,,;,asn,\n"
    assert set(refused(cohort.read_innovations, ideas)) == {
        "f.csv:2:title",
        "f.csv:2:initiator",
        "f.csv:3:unit",
        "f.csv:3:innovators",
        "f.csv:3:problem",
    }
    actors = "id,name,roles\ns,S,\nt\x00,T,innovator\n"
    assert set(refused(cohort.read_actors, actors)) == {"f.csv:2:roles", "f.csv:3:id"}


def test_the_problems_come_in_the_order_of_their_lines() -> None:
    with pytest.raises(DocumentError) as info:
        cohort.read_units("id,name,kind\nu1,U1,agency,x\nu 2,U,agency\n", "f.csv")
    assert [p.path for p in info.value.problems] == ["f.csv:2", "f.csv:3:id"]
    assert info.value.kind == "units CSV"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "there is no header row (expected id,name,kind)"),
        ("\n\n", "there is no header row (expected id,name,kind)"),
        ("id,name\nx,y\n", "missing column(s) kind"),
        ("id,name,kind,name\n", "the column(s) name appear more than once"),
    ],
)
def test_a_bad_header_is_refused_at_line_one(text: str, message: str) -> None:
    assert refused(cohort.read_units, text) == {"f.csv:1": message}


def test_what_the_csv_module_cannot_read_is_a_document_error() -> None:
    """A field over the csv module's size limit raises `csv.Error` inside; it comes out ours."""
    huge = "x" * (csv.field_size_limit() + 1)
    problems = refused(cohort.read_units, f"id,name,kind\nu,{huge},agency\n")
    assert list(problems) == ["f.csv:2"]
    assert "is not readable as CSV" in problems["f.csv:2"]


#: Pieces a hostile or broken CSV is made of.
PIECES = [*'ab ,;"\n\r\x00\ufeff', "agency", "asn", "secretariat"]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(READERS),
    st.sampled_from(
        ["", "id,name,kind\n", "id,name,roles,unit\n", "id,title,unit,innovators,problem\n"]
    ),
    st.lists(st.sampled_from(PIECES), max_size=40).map("".join),
)
def test_any_text_reads_or_raises_a_document_error(
    read: Callable[[str, str], list[Any]], header: str, body: str
) -> None:
    problems: tuple[Any, ...] = ()
    try:
        read(header + body, "f.csv")
    except DocumentError as exc:
        problems = exc.problems or (None,)
    assert all(p is not None and p.path.startswith("f.csv:") for p in problems)
