"""The bundled regional presets load, say what the sources say, and docs/presets.md is current.

Run ``python tests/test_presets.py`` to regenerate docs/presets.md after changing a preset.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import labflow as lf
from labflow.diagram import mermaid, spec_label
from labflow.diff import compare
from labflow.model import GOVERNMENT_KINDS

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "presets.md"
REGIONAL = ("kebumen-2016", "kudus-2017", "kudus-2019", "banyumas-2017")

INTRO = """\
# The bundled presets

Load any of these by name with `labflow.load_policy("<name>")`. Each regional preset
`extends` a national baseline and overrides only what differs; the tables below list
the result, the diagram draws it (`labflow.diagram.mermaid`), and the difference from
the baseline is `labflow.diff.compare(baseline, preset).render()`.

This page is generated from the presets (`python tests/test_presets.py`); a test fails
when it is out of date. A region's own variant is compared and drawn the same way:

```python
import labflow
from labflow.diagram import mermaid
from labflow.diff import compare

baseline = labflow.load_policy("lan-5d")
kebumen = labflow.load_policy("kebumen-2016")
difference = compare(baseline, kebumen)
assert [c.kind for c in difference.stages][0] == "merged"
moved = {c.name: (c.base_at, c.variant_at) for c in difference.gates if c.kind == "moved"}
assert moved["agreement_signed"] == ("deliver", "display")
print(difference.render())
assert "stateDiagram-v2" in mermaid(kebumen)
```

`compare` matches stages by the 5D stages they cover, not by id, and places each
requirement at the 5D stage whose entry it guards; `PolicyDiff` holds frozen records
(`StageChange`, `GateChange`, `PermissionChange`, `RoleChange`, `SettingChange`).
`mermaid(policy, lang="id")` labels the stages in Indonesian; `returns=False`,
`withdrawals=False` and `notes=False` leave those parts out.

## Assumptions

The sources (news reports and regional pages, listed under [Sources](domain.md#sources) on
the domain page) say which stages each region ran and in what order; they do not say
everything a policy needs. What the presets assume, and how to change it:

- **Kebumen 2016** -- the performance agreement is signed right after the launch, so it
  gates the way *into display*; the baseline's idea check moves to the way into design,
  because drum-up and diagnose are one stage. The example adds a local rule that the
  signatures date from the launch week.
- **Kudus 2017** -- exhibitors from outside government (community, private, academia,
  vertical) are registered for the exhibition only (`[exhibitions]`, see
  [Exhibitions](exhibitions.md)), and innovations may be launched at the exhibition
  (`launches = true`). A non-government body that enters the lab as a unit of its own
  kind meets only the gates it can: the gates only the regional government can meet (the
  diagnosis of a unit's readiness, the ASN permission, the action plan and its approval
  by the unit head, the performance agreement with the Bupati, the launch at the
  regency's ceremony) carry `applies_to` with the government kinds, so an exhibitor's
  entry never owes a signature nobody can give; it needs its idea registered, and
  evidence that it works to enter the exhibition. The cohort conditions count government
  units only.
- **Kudus 2019** -- "one public official, one innovation" is counted per unit: each
  government unit brings at least as many active innovations as it has officials (its
  head and the holders of the `official` role the preset adds); "every agency has
  entered its innovations" is `every_unit_has` with `meeting = "idea_registered"`. Both
  are cohort conditions on the way into design (the lab cannot leave diagnose).
- **Banyumas 2017** -- the facilitator role is one role whose holders change
  (`Lab.set_roles`), not a second role; the unit-head link is `unit_head_on_record`
  on the way into design, and the agreement names that head.
"""


def _stage_table(policy: lf.Policy) -> list[str]:
    lines = [
        "| stage | label | covers | gate (to enter) | lab enters when |",
        "|---|---|---|---|---|",
    ]
    for stage in policy.stages:
        gate = ", ".join(f"`{spec_label(s)}`" for s in policy.gates.get(stage.id, ())) or "--"
        cohort = ", ".join(f"`{spec_label(s)}`" for s in policy.cohort.get(stage.id, ())) or "--"
        covers = " + ".join(stage.covers)
        lines.append(f"| `{stage.id}` | {stage.label_id} | {covers} | {gate} | {cohort} |")
    return lines


def render() -> str:
    """The text docs/presets.md must hold."""
    parts = [INTRO]
    for name in lf.available_presets():
        policy = lf.load_policy(name)
        parts.append(f"## `{name}`: {policy.name}\n")
        parts.append(" ".join(policy.description.split()) + "\n")
        parts.append("\n".join(_stage_table(policy)) + "\n")
        launch = dict.fromkeys(["action_plan_approved", *(spec_label(s) for s in policy.launch)])
        paced = "yes" if policy.self_paced else "no"
        needs = ", ".join(f"`{x}`" for x in launch)
        parts.append(f"Launch needs: {needs}. Self-paced: {paced}.\n")
        parts.append("Diagram (returns to earlier stages are left out: every stage has them):\n")
        parts.append("```mermaid\n" + mermaid(policy, returns=False) + "```\n")
        if policy.extends:
            base = lf.load_policy(policy.extends)
            parts.append(f"Compared with `{policy.extends}`:\n")
            parts.append("```text\n" + compare(base, policy).render() + "```\n")
    return "\n".join(parts)


def test_docs_presets_page_is_current() -> None:
    """docs/presets.md is what the presets generate (regenerate: python tests/test_presets.py)."""
    assert DOC.read_text(encoding="utf-8") == render()


@pytest.mark.parametrize("name", REGIONAL)
def test_regional_preset_loads_and_round_trips(name: str) -> None:
    policy = lf.load_policy(name)
    assert policy.id == name
    assert lf.policy_from_dict(policy.to_dict()) == policy


def test_kebumen_has_four_stages_with_drum_up_and_diagnose_merged() -> None:
    policy = lf.load_policy("kebumen-2016")
    assert [s.covers for s in policy.stages] == [
        ("drum_up", "diagnose"),
        ("design",),
        ("deliver",),
        ("display",),
    ]
    assert "agreement_signed" in [s.name for s in policy.gates["display"]]
    assert "agreement_signed" not in [s.name for s in policy.gates["deliver"]]


def test_kudus_government_only_gates() -> None:
    """Every gate that needs the regional government applies to government units only."""
    for name in ("kudus-2017", "kudus-2019"):
        policy = lf.load_policy(name)
        assert [s.covers for s in policy.stages] == [(d,) for d in lf.FIVE_D[:5]]
        for specs in policy.gates.values():
            for spec in specs:
                if spec.name in ("agreement_signed", "action_plan_approved", "launch_recorded"):
                    assert spec.applies_to == GOVERNMENT_KINDS


def test_kudus_2019_adds_its_rules_to_kudus_2017() -> None:
    policy = lf.load_policy("kudus-2019")
    assert policy.extends == "kudus-2017"
    assert [s.name for s in policy.cohort["design"]] == [
        "every_unit_has",
        "one_official_one_innovation",
    ]
    assert "official" in policy.roles
    assert policy.gates == lf.load_policy("kudus-2017").gates


def test_banyumas_keeps_the_baseline_stages_with_a_festival() -> None:
    policy = lf.load_policy("banyumas-2017")
    assert policy.stage_ids == lf.load_policy("lan-5d").stage_ids
    assert policy.stage("display").label_id == "Festival inovasi"
    assert "unit_head_on_record" in [s.name for s in policy.gates["design"]]


def test_an_unknown_preset_is_refused_with_a_hint() -> None:
    with pytest.raises(lf.PolicyError, match="Did you mean 'kudus-2019'"):
        lf.load_policy("kudus-2018")


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)
