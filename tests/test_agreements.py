"""Agreement parties as policy data: the counterparty's role is a setting, the gate's place
is the policy's choice (a village pact signed with the camat at drum-up)."""

from __future__ import annotations

from pathlib import Path

import pytest

import labflow as lf
from labflow import serde
from labflow.events import GENESIS, make_event

ROOT = Path(__file__).resolve().parent.parent
DESA = ROOT / "examples" / "desa" / "policy.toml"

UNITS = (
    lf.Unit("desa-sukamaju", "Desa Sukamaju", "village"),
    lf.Unit("kec-cikarang", "Kecamatan Cikarang Utara", "district"),
)
ACTORS = (
    lf.Actor("sekretariat", "Sekretariat", {"secretariat"}),
    lf.Actor("bupati", "Bupati Bekasi", {"regional_head"}),
    lf.Actor("camat", "Camat Cikarang Utara", {"camat"}),
    lf.Actor("kades", "Kepala Desa Sukamaju", {"unit_head"}, "desa-sukamaju"),
    lf.Actor("warga", "Pegiat Desa", {"innovator"}, "desa-sukamaju"),
)


def village_lab() -> lf.Lab:
    lab = lf.Lab.create(
        lf.load_policy(DESA), id="bekasi", region="Kabupaten Bekasi", by="sekretariat",
        units=UNITS, actors=ACTORS,
    )  # fmt: skip
    lab.register(
        "posyandu-digital",
        title="Posyandu Digital",
        unit="desa-sukamaju",
        innovators=["Pegiat Desa"],
        problem="Data balita tercatat di buku",
        by="warga",
    )
    return lab


def problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(lf.PolicyError) as caught:
        lf.parse_policy(text)
    return [(p.path, p.message) for p in caught.value.problems]


class TestVillagePact:
    def test_the_camat_signs_the_pact_at_drum_up(self) -> None:
        """The pact with the camat is drawn up and signed at drum-up; the diagnose gate needs it."""
        lab = village_lab()
        assert "agreement.missing" in lab.check("posyandu-digital").codes
        lab.draw_up_agreement(
            "posyandu-digital", regional_head="camat", unit_head="kades", by="sekretariat"
        )
        verdict = lab.check("posyandu-digital")
        unsigned = [u for u in verdict.unmet if u.code == "agreement.unsigned.regional_head"]
        assert unsigned[0].message_en == (
            "The performance agreement is not signed by the District head (camat) (camat)."
        )
        assert "Camat" in unsigned[0].message_id
        lab.sign_agreement("posyandu-digital", by="camat")
        lab.sign_agreement("posyandu-digital", by="kades")
        assert lab.stage == "drum_up"
        assert "agreement.missing" not in lab.check("posyandu-digital").codes
        assert serde.loads(serde.dumps(lab)) == lab

    def test_the_regent_is_not_the_counterparty_here(self) -> None:
        """Under this policy the regent cannot stand in for the camat; nothing changes."""
        lab = village_lab()
        before = lab.innovation("posyandu-digital").version
        with pytest.raises(lf.InvalidCommand) as caught:
            lab.draw_up_agreement(
                "posyandu-digital", regional_head="bupati", unit_head="kades", by="sekretariat"
            )
        assert caught.value.message_en == (
            "'bupati' is not a District head (camat) of this lab, the party its agreements "
            "are signed with."
        )
        assert caught.value.message_id.startswith("'bupati' bukan Camat di laboratorium ini")
        assert lab.innovation("posyandu-digital").version == before

    def test_replay_refuses_a_forged_counterparty(self) -> None:
        """A history naming the regent as the pact's counterparty is not one commands write."""
        lab = village_lab()
        lab.draw_up_agreement(
            "posyandu-digital", regional_head="camat", unit_head="kades", by="sekretariat"
        )
        events = list(lab.innovation("posyandu-digital").history)
        drawn = events[-1]
        forged = make_event(
            drawn.subject,
            drawn.seq,
            drawn.at,
            drawn.actor,
            drawn.kind,
            {**drawn.payload, "regional_head": "bupati"},
            events[-2].hash if len(events) > 1 else GENESIS,
        )
        with pytest.raises(lf.HistoryError) as caught:
            lf.replay_lab(lab.history, [[*events[:-1], forged]])
        assert caught.value.code == "history.agreement_parties"

    def test_the_presets_keep_the_regional_head(self) -> None:
        """Every bundled preset signs with the regional head, as before."""
        for name in lf.available_presets():
            assert lf.load_policy(name).settings.agreement_counterparty == "regional_head"


BROKEN = {
    "not a role": (
        '[settings]\nagreement_counterparty = "lurah"\n',
        "'lurah' is not a role of this policy",
    ),
    "the unit head again": (
        '[settings]\nagreement_counterparty = "unit_head"\n',
        "already a party",
    ),
    "a role that may not sign": (
        '[settings]\nagreement_counterparty = "facilitator"\n',
        "'facilitator' may not sign agreements",
    ),
    "not text": ("[settings]\nagreement_counterparty = 3\n", "must be a role id"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_counterparties_are_listed(case: str) -> None:
    """A counterparty nobody could be, or who could never sign, is refused at load."""
    text, phrase = BROKEN[case]
    found = problems(f'id = "x"\nextends = "lan-5d"\n{text}')
    assert any(p == "$.settings.agreement_counterparty" and phrase in m for p, m in found), found
