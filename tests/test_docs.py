"""The documentation: every example runs, and the generated pages cover the whole public API.

Every ```python block of the README and of every page under docs/ runs, in order, one
namespace per page. The API reference and the requirement catalogue are generated from the
code by docs/hooks/reference.py when the site is built (``mkdocs build --strict``, in CI);
the tests below check what that hook generates without building the site.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

import labflow

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *(p for p in DOCS.rglob("*.md") if "hooks" not in p.parts)])
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text(encoding="utf-8"))


def _hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_reference", DOCS / "hooks" / "reference.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    return _hook()


@pytest.fixture(scope="module")
def generated(hook: ModuleType) -> dict[str, str]:
    pages: dict[str, str] = hook.generated_pages()
    return pages


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's examples execute without error (files they write go to a temporary folder)."""
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for number, code in enumerate(blocks(page), start=1):
        exec(compile(code, f"{page.name}[block {number}]", "exec"), namespace)


def test_docs_have_examples() -> None:
    """The narrative pages are not prose only: most carry at least one executed example."""
    with_examples = [p for p in PAGES if blocks(p)]
    assert len(with_examples) >= len(PAGES) // 2


def test_every_page_is_in_the_site_navigation() -> None:
    """A page written under docs/ but left out of mkdocs.yml's nav would be unreachable."""
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8").split("\nnav:\n", 1)[1]
    listed = set(re.findall(r"[\w./-]+\.md", nav))
    written = {str(p.relative_to(DOCS)) for p in PAGES if p.is_relative_to(DOCS)}
    assert written - listed == set()
    assert listed - written == {"reference/requirements.md", "reference/commands.md"}  # generated


class TestApiReference:
    def test_every_public_module_has_a_page(self, hook: ModuleType, generated: dict[str, str]):
        """labflow and each public submodule (no ``_`` in its dotted name) get a page."""
        names = {m.__name__ for m in hook.public_modules()}
        assert {"labflow", "labflow.serde", "labflow.store", "labflow.reports"} <= names
        assert all("._" not in n for n in names)
        assert {f"reference/{n}.md" for n in names} <= set(generated)

    def test_every_exported_name_is_documented_once(
        self, hook: ModuleType, generated: dict[str, str]
    ):
        """Each name of each ``__all__`` is rendered in full on exactly one page, linked from
        the others: a new public name appears in the reference without editing the docs."""
        rendered: dict[object, list[str]] = {}
        for module in hook.public_modules():
            page = generated[f"reference/{module.__name__}.md"]
            for name in getattr(module, "__all__", ()):
                directive = f"::: {module.__name__}.{name}\n"
                key = hook.key(module, name)
                if directive in page:
                    rendered.setdefault(key, []).append(module.__name__)
                else:
                    assert re.search(rf"\[`{re.escape(name)}`\]\[[\w.]+\.{name}\]", page), name
        twice = {k: v for k, v in rendered.items() if len(v) > 1}
        assert twice == {}
        for module in hook.public_modules():
            for name in getattr(module, "__all__", ()):
                assert hook.key(module, name) in rendered, f"{module.__name__}.{name}"

    def test_nav_lists_every_reference_page(self, hook: ModuleType):
        """The hook fills the nav's "API reference" section with every module page."""
        config = {"nav": [{"Home": "index.md"}, {"API reference": []}]}
        section = hook.on_config(config)["nav"][1]["API reference"]
        pages = {next(iter(entry.values())) for entry in section}
        assert pages == {"reference/index.md"} | {
            f"reference/{m.__name__}.md" for m in hook.public_modules()
        }


class TestCommandCatalogue:
    def test_the_command_table_is_the_catalogue(self, generated: dict[str, str]) -> None:
        """Read back, the generated table says what each command declares, nothing else."""
        from labflow._catalogue import CATALOGUE

        page = generated["reference/commands.md"]
        rows = re.findall(
            r"^\| `(\w+)` \| ([^|]+) \| `([\w.]+)` \| ([^|]+) \| ([^|]+) \|$", page, re.M
        )
        table = {
            name: (kind, frozenset(roles.strip().split(", ")), re.findall(r"`([\w.]+)`", pre))
            for name, _, kind, roles, pre in rows
        }
        assert list(table) == [c.name for c in CATALOGUE]
        assert table == {
            c.name: (c.kind, c.roles, [p.code for p in c.preconditions]) for c in CATALOGUE
        }
        codes = set(re.findall(r"^\| `([\w.]+)` \| [^|]+ \|$", page, re.M))
        assert codes == {p.code for c in CATALOGUE for p in c.preconditions}

    def test_the_policies_page_links_the_generated_table(self) -> None:
        page = (DOCS / "policies.md").read_text(encoding="utf-8")
        assert "(reference/commands.md)" in page
        assert "| `approve_plan`" not in page  # no hand-written restatement left to drift


class TestRequirementCatalogue:
    def test_lists_every_registered_requirement_with_its_parameters(
        self, generated: dict[str, str]
    ):
        """Every built-in gate requirement and cohort condition, with each parameter."""
        page = generated["reference/requirements.md"]
        for kind in ("gate", "cohort"):
            for name in labflow.DEFAULT_REGISTRY.names(kind):
                assert f"### `{name}`" in page
                found = labflow.DEFAULT_REGISTRY.find(kind, name)
                assert found is not None
                section = page.split(f"### `{name}`", 1)[1].split("### ", 1)[0]
                assert (found.doc or "(No docstring.)").splitlines()[0] in section
                for param in found.params:
                    assert f"| `{param}` |" in section
        assert "### `unit_head_on_record`" in page
        assert "### `one_official_one_innovation`" in page

    def test_a_host_requirement_joins_the_catalogue(self, hook: ModuleType):
        """Registered in the default registry, a host's requirement is listed with its
        parameters and its docstring; unregistered, it is gone."""

        @labflow.requirement("budget_in_apbd")
        def budget_in_apbd(ctx: labflow.GateContext, *, minimum: int = 1) -> list[labflow.Unmet]:
            """The action plan's budget line is in the regional budget (APBD)."""
            return []

        try:
            page = hook.catalogue_page()
        finally:
            labflow.DEFAULT_REGISTRY.unregister("gate", "budget_in_apbd")
        assert "### `budget_in_apbd`" in page
        assert "The action plan's budget line is in the regional budget (APBD)." in page
        assert "| `minimum` | integer | `1` |" in page
        assert "budget_in_apbd" not in hook.catalogue_page()

    def test_says_which_presets_use_each_requirement(self, generated: dict[str, str]):
        """The Banyumas preset's own rule is listed as used by it."""
        page = generated["reference/requirements.md"]
        section = page.split("### `unit_head_on_record`", 1)[1].split("### ", 1)[0]
        assert "`banyumas-2017`" in section
