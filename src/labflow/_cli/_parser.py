"""The ``labflow`` command's arguments, in the user's language, with "did you mean".

`argparse` from the standard library (no dependency for ``labflow --help``), built in the
language of ``--lang`` (or ``LABFLOW_LANG``) so that help, usage and usage errors speak
it too. The options every command shares (``--db``, ``--lab``, ``--lang``, ``--json``)
are accepted before or after the subcommand: they are declared on the top parser and
on every subparser with suppressed defaults, so a value given in one place is never
overwritten by the other's default.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, NoReturn

from labflow import _catalogue
from labflow._cli import _derived
from labflow._cli._catalogue import message
from labflow._version import __version__
from labflow.model import UnitKind

#: The database every lab command uses unless ``--db`` says otherwise.
DEFAULT_DB: Final = "labflow.db"
#: The database ``labflow demo`` writes unless ``--db`` says otherwise.
DEMO_DB: Final = "labflow-demo.db"
#: The languages of the catalogue.
LANGS: Final = ("en", "id")

#: What ``labflow completion ids`` lists (for the completion script: ids of the lab).
ID_KINDS: Final = ("innovation", "actor", "unit")
#: Reading commands whose positional argument is an innovation already in the lab (the
#: writing ones are the catalogue's: `labflow._cli._derived.innovation_commands`).
_INNOVATION_READS: Final = ("status", "history")
#: Options whose value is an id of the lab, by the kind of id.
_ID_OPTIONS: Final = {
    "actor": ("--by", "--from", "--to", "--regional-head", "--unit-head"),
    "unit": ("--unit",),
    "innovation": ("--origin",),
}

#: Options whose value is a file name (kept byte for byte, even when not UTF-8).
PATH_OPTIONS: Final = (
    "db",
    "units",
    "actors",
    "innovations",
    "lab_json",
    "out",
    "policy",
    "base",
    "variant",
    "key",
    "checkpoint",
)


def language(argv: Sequence[str], default: str) -> str:
    """The ``--lang`` given anywhere in ``argv`` (before ``--``), else ``default``."""
    found = default
    for i, token in enumerate(argv):
        if token == "--":
            break
        if token == "--lang" and i + 1 < len(argv):
            found = argv[i + 1]
        elif token.startswith("--lang="):
            found = token.partition("=")[2]
    return found if found in LANGS else default


def suggest(word: str, choices: Sequence[str]) -> str | None:
    """The closest of ``choices`` to a mistyped ``word``, if one is close enough."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


class _Formatter(argparse.RawDescriptionHelpFormatter):
    lang = "en"

    def add_usage(
        self,
        usage: str | None,
        actions: Any,
        groups: Any,
        prefix: str | None = None,
    ) -> None:
        if prefix is None:
            prefix = message("help.usage", self.lang)
        super().add_usage(usage, actions, groups, prefix)


# argparse's own sentences, as Python 3.11-3.13 word them, and their catalogue keys.
_ARGPARSE: Final = (
    (re.compile(r"the following arguments are required: (?P<names>.+)"), "usage.required"),
    (re.compile(r"unrecognized arguments: (?P<names>.+)"), "usage.unrecognized"),
    (re.compile(r"argument (?P<name>\S+): expected one argument"), "usage.expected_one"),
    (re.compile(r"argument (?P<name>\S+): expected at least one argument"), "usage.expected_one"),
    (
        re.compile(r"argument (?P<name>\S+): invalid \w+ value: (?P<value>.+)"),
        "usage.invalid_value",
    ),
    (
        re.compile(r"ambiguous option: (?P<name>\S+) could match (?P<names>.+)"),
        "usage.ambiguous",
    ),
    (
        re.compile(r"argument (?P<name>\S+): not allowed with argument (?P<other>\S+)"),
        "usage.exclusive",
    ),
)


#: What kind of value an option takes, by its destination (free text otherwise).
_METAVARS: Final = {
    **dict.fromkeys(
        ("unit", "origin", "regional_head", "unit_head", "lab_id", "stage", "id", "lab"), "id"
    ),
    **dict.fromkeys(("roles", "role", "add", "remove"), "role"),
    "budget": "number",
    "policy": "policy",
    "initiator": "initiator",
}


def metavar_of(dest: str, lang: str) -> str:
    """The placeholder of an option's value (``ID``, ``TEXT``...), by its destination."""
    return message(f"metavar.{_METAVARS.get(dest, 'text')}", lang)


class _Parser(argparse.ArgumentParser):
    """An `argparse.ArgumentParser` that speaks the catalogue's language.

    ``fill``, if given, adds the parser's arguments when it is first used (parsed, or its
    help or usage shown): a derived command's arguments come from its `labflow.Lab`
    method, which ``labflow --help`` never needs to import.
    """

    def __init__(
        self,
        *args: Any,
        lang: str = "en",
        helps: bool = True,
        fill: Callable[[_Parser], None] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False  # added below, in the user's language
        parents = kwargs.pop("parents", [])
        super().__init__(*args, **kwargs)
        self.lang = lang
        self._positionals.title = message("help.positionals", lang)
        self._optionals.title = message("help.options", lang)
        if helps:
            self.add_argument("-h", "--help", action="help", help=message("help.help", lang))
        # The parents' options join the groups renamed above (argparse would add them
        # before the renaming, under a second "options" heading).
        for parent in parents:
            self._add_container_actions(parent)
            self._defaults.update(parent._defaults)
        self._fill = fill

    def filled(self) -> _Parser:
        """This parser with all its arguments (a derived command's, added now if not yet)."""
        fill, self._fill = self._fill, None
        if fill is not None:
            fill(self)
        return self

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        return super(_Parser, self.filled()).parse_known_args(args, namespace)

    def format_usage(self) -> str:
        return super(_Parser, self.filled()).format_usage()

    def format_help(self) -> str:
        return super(_Parser, self.filled()).format_help()

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        """An argument whose placeholder (``TEXT``, ``ID``, ...) is in the parser's language."""
        optional = args and str(args[0]).startswith("-")
        takes_value = kwargs.get("action") in (None, "append") and "choices" not in kwargs
        if optional and takes_value and "metavar" not in kwargs:
            dest = kwargs.get("dest") or str(args[-1]).lstrip("-").replace("-", "_")
            kwargs["metavar"] = metavar_of(dest, self.lang)
        return super().add_argument(*args, **kwargs)

    def _get_formatter(self) -> argparse.HelpFormatter:
        formatter = super()._get_formatter()
        if isinstance(formatter, _Formatter):
            formatter.lang = self.lang
        return formatter

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is None or value in choices:
            return
        names = [str(c) for c in choices]
        close = suggest(str(value), names)
        key = "usage.did_you_mean" if close else "usage.invalid_choice"
        raise argparse.ArgumentError(
            action,
            message(key, self.lang, value=str(value), close=close or "", choices=", ".join(names)),
        )

    def error(self, text: str) -> NoReturn:
        for pattern, key in _ARGPARSE:
            match = pattern.fullmatch(text)
            if match:
                text = message(key, self.lang, **match.groupdict())
                break
        else:
            match = re.fullmatch(r"argument (\S+): (.*)", text, flags=re.DOTALL)
            if match:  # an error of ours about one argument (an invalid choice, ...)
                text = message("usage.argument", self.lang, name=match[1], text=match[2])
        self.print_usage(sys.stderr)
        self.exit(2, f"labflow: {message('usage.error', self.lang)}: {text}\n")


def _global(lang: str) -> _Parser:
    """The options every command takes, before or after its name (defaults suppressed)."""
    shared = _Parser(lang=lang, helps=False)
    shared.add_argument(
        "--db",
        default=argparse.SUPPRESS,
        metavar=message("metavar.path", lang),
        help=message("arg.db", lang, default=DEFAULT_DB, demo=DEMO_DB),
    )
    shared.add_argument(
        "--lab",
        default=argparse.SUPPRESS,
        metavar="ID",
        help=message("arg.lab", lang),
    )
    shared.add_argument(
        "--lang",
        choices=LANGS,
        default=argparse.SUPPRESS,
        help=message("arg.lang", lang),
    )
    shared.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help=message("arg.json", lang),
    )
    shared.add_argument(
        "--rules",
        action="append",
        default=argparse.SUPPRESS,
        metavar=message("metavar.module", lang),
        help=message("arg.rules", lang),
    )
    return shared


def _acting(lang: str) -> _Parser:
    acting = _Parser(lang=lang, helps=False)
    acting.add_argument(
        "--by", required=True, metavar=message("metavar.actor", lang), help=message("arg.by", lang)
    )
    acting.add_argument(
        "--at",
        metavar=message("metavar.when", lang),
        help=message("arg.at", lang),
    )
    return acting


def build(lang: str = "en") -> argparse.ArgumentParser:
    """The whole ``labflow`` parser in ``lang``; each command sets ``run`` to its name."""

    def t(key: str, **params: Any) -> str:
        return message(key, lang, **params)

    shared = _global(lang)
    acting = _acting(lang)
    parser = _Parser(
        prog="labflow",
        description=t("help.description"),
        epilog=t("help.epilog"),
        parents=[shared],
        lang=lang,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"labflow {__version__}",
        help=t("help.version"),
    )
    sub = parser.add_subparsers(
        dest="command", metavar=t("metavar.command"), required=True, parser_class=_Parser
    )

    def command(
        name: str,
        *,
        writes: bool = False,
        run: str | None = None,
        aliases: Sequence[str] = (),
        text: str | None = None,
        fill: Callable[[_Parser], None] | None = None,
    ) -> Any:
        parents = [shared, acting] if writes else [shared]
        text = text if text is not None else t(f"cmd.{name}")
        p = sub.add_parser(
            name,
            aliases=list(aliases),
            help=text,
            description=text,
            parents=parents,
            lang=lang,
            fill=fill,
        )
        p.set_defaults(run=run or name)
        return p

    def keys(p: Any) -> None:
        where = p.add_mutually_exclusive_group()
        where.add_argument("--key", metavar=t("metavar.path"), help=t("arg.key"))
        where.add_argument("--key-env", metavar=t("metavar.name"), help=t("arg.key_env"))

    p: Any = command("demo")
    p.add_argument("--region", choices=("kebumen", "kudus", "banyumas"), default="kebumen")

    p = command("create", writes=True)
    p.add_argument("--policy", required=True, help=t("arg.policy"))
    p.add_argument("--id", required=True, dest="lab_id", help=t("arg.lab_id"))
    p.add_argument("--region", required=True, help=t("arg.region"))
    p.add_argument("--units", metavar="CSV", help=t("arg.units_csv"))
    p.add_argument("--actors", metavar="CSV", help=t("arg.actors_csv"))

    p = command("import", writes=True)
    p.add_argument("--units", metavar="CSV", help=t("arg.units_csv"))
    p.add_argument("--innovations", metavar="CSV", help=t("arg.innovations_csv"))
    p.add_argument("--lab-json", metavar="JSON", help=t("arg.lab_json"))

    # --- the catalogue's commands, in its order: derived, but for a few bodies of their own --
    for spec in _catalogue.CATALOGUE:
        name = _derived.cli_name(spec)
        if spec.name == "set_roles":
            _set_roles(command(name, writes=True), t)
            _hand_over(command("hand-over", writes=True), t)
        elif spec.name == "launch_cohort":
            p = command(name, writes=True, aliases=_derived.aliases(spec))
            p.add_argument("--name", required=True, help=t("arg.ceremony"))
        else:
            p = command(
                name,
                writes=True,
                aliases=_derived.aliases(spec),
                text=_derived.command_help(spec, lang),
                fill=functools.partial(_derived.fill, spec=spec, lang=lang),
            )
            p.set_defaults(catalogue=spec.name)

    command("actors")
    command("units")

    # --- reading --------------------------------------------------------------------------
    p = command("status")
    p.add_argument(
        "innovation", nargs="?", metavar=t("metavar.innovation"), help=t("arg.status_of")
    )

    p = command("list")
    p.add_argument("--stage", help=t("arg.filter_stage"))
    p.add_argument("--unit", help=t("arg.filter_unit"))
    p.add_argument("--unit-kind", choices=[k.value for k in UnitKind], help=t("arg.filter_kind"))
    p.add_argument("--status", choices=("active", "withdrawn"), help=t("arg.filter_status"))
    p.add_argument("--blocked", action="store_true", help=t("arg.blocked"))

    p = command("history")
    p.add_argument(
        "innovation", nargs="?", metavar=t("metavar.innovation"), help=t("arg.history_of")
    )
    p.add_argument("--hashes", action="store_true", help=t("arg.hashes"))

    p = command("verify")
    p.add_argument("--checkpoint", metavar=t("metavar.path"), help=t("arg.checkpoint"))
    keys(p)

    p = command("checkpoint")
    p.add_argument("--out", required=True, metavar=t("metavar.path"), help=t("arg.checkpoint_out"))
    keys(p)

    p = command("report")
    p.add_argument("--html", metavar=t("metavar.path"), help=t("arg.html"))

    p = command("export")
    p.add_argument(
        "--format",
        choices=("json", "csv", "iid", "iid-json", "kipp"),
        default="json",
        help=t("arg.format"),
    )
    p.add_argument("--out", metavar=t("metavar.path"), help=t("arg.out"))

    p = sub.add_parser(
        "policy",
        help=t("cmd.policy"),
        description=t("cmd.policy"),
        parents=[shared],
        lang=lang,
    )
    actions = p.add_subparsers(
        dest="policy_command", metavar=t("metavar.action"), required=True, parser_class=_Parser
    )
    for name in ("list", "show", "validate", "diagram", "diff"):
        q = actions.add_parser(
            name,
            help=t(f"cmd.policy-{name}"),
            description=t(f"cmd.policy-{name}"),
            parents=[shared],
            lang=lang,
        )
        q.set_defaults(run=f"policy-{name}")
        if name in ("show", "validate", "diagram"):
            q.add_argument("policy", metavar=t("metavar.policy"), help=t("arg.policy"))
        elif name == "diff":
            q.add_argument("base", metavar=t("metavar.base"), help=t("arg.base"))
            q.add_argument("variant", metavar=t("metavar.variant"), help=t("arg.variant"))

    p = command("completion")
    p.add_argument("shell", choices=("bash", "zsh", "ids"), help=t("arg.shell"))
    p.add_argument(
        "what",
        nargs="?",
        choices=ID_KINDS,
        metavar=t("metavar.id_kind"),
        help=t("arg.completion_ids"),
    )
    return parser


def _set_roles(p: Any, t: Callable[..., str]) -> None:
    p.add_argument("actor", metavar=t("metavar.actor"), help=t("arg.actor_id"))
    p.add_argument("--role", action="append", dest="roles", help=t("arg.roles_set"))
    p.add_argument("--add", action="append", default=[], help=t("arg.roles_add"))
    p.add_argument("--remove", action="append", default=[], help=t("arg.roles_remove"))


def _hand_over(p: Any, t: Callable[..., str]) -> None:
    p.add_argument(
        "--from",
        action="append",
        required=True,
        dest="giver",
        metavar=t("metavar.actor"),
        help=t("arg.hand_from"),
    )
    p.add_argument(
        "--to",
        action="append",
        required=True,
        dest="taker",
        metavar=t("metavar.actor"),
        help=t("arg.hand_to"),
    )
    p.add_argument("--role", default="facilitator", help=t("arg.hand_role"))


# --- shell completion ------------------------------------------------------------------------


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {name: child.filled() for name, child in action.choices.items()}
    return {}


def _words(parser: argparse.ArgumentParser) -> Iterator[tuple[str, list[str]]]:
    """``(path, words)``: each command path and the words that may follow it."""
    children = _subparsers(parser)
    options = sorted(s for a in parser._actions for s in a.option_strings if s.startswith("--"))
    yield "", [*children, *options]
    for name, child in children.items():
        for path, words in _words(child):
            yield f"{name} {path}".strip(), words


def completion_script(shell: str) -> str:
    """A completion script for ``shell`` (bash; zsh through its bash compatibility)."""
    cases = []
    for path, words in _words(build("en")):
        cases.append(f'        "{path}") words="{" ".join(words)}" ;;')
    choices = {
        "--lang": " ".join(LANGS),
        "--kind": " ".join(k.value for k in UnitKind),
        "--unit-kind": " ".join(k.value for k in UnitKind),
        "--format": "json csv",
        "--status": "active withdrawn",
        "--region": "kebumen kudus banyumas",
    }
    value_cases = "\n".join(f'        {o}) words="{w}" ;;' for o, w in choices.items())
    id_cases = "\n".join(
        f"        {'|'.join(options)})\n"
        f'            COMPREPLY=($(compgen -W "$(_labflow_ids {kind})" -- "$cur")); return ;;'
        for kind, options in _ID_OPTIONS.items()
    )
    innovation_commands = "|".join([*_INNOVATION_READS, *_derived.innovation_commands()])
    body = "\n".join(cases)
    script = f"""\
# labflow completion for {shell}: eval "$(labflow completion {shell})"
_labflow() {{
    local cur prev path word i words
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    case "$prev" in
{value_cases}
{id_cases}
        --db|--out|--units|--actors|--innovations|--lab-json|--key|--checkpoint)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
        *) words="" ;;
    esac
    if [ -n "$words" ]; then COMPREPLY=($(compgen -W "$words" -- "$cur")); return; fi
    path=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${{COMP_WORDS[i]}}"
        case "$word" in -*) continue ;; esac
        case "$path" in
            "") if [ -n "$(_labflow_words "$word")" ]; then path="$word"; fi ;;
            policy) if [ -n "$(_labflow_words "policy $word")" ]; then path="policy $word"; fi ;;
        esac
    done
    words="$(_labflow_words "$path")"
    case "$path" in
        {innovation_commands})
            case "$cur" in -*) ;; *) words="$words $(_labflow_ids innovation)" ;; esac ;;
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}}
_labflow_ids() {{  # the lab's ids of one kind, read from the database the line names
    local i db="" lab=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${{COMP_WORDS[i]}}" in
            --db) db="${{COMP_WORDS[i+1]}}" ;;
            --lab) lab="${{COMP_WORDS[i+1]}}" ;;
        esac
    done
    labflow completion ids "$1" ${{db:+--db "$db"}} ${{lab:+--lab "$lab"}} 2>/dev/null
}}
_labflow_words() {{
    local words=""
    case "$1" in
{body}
    esac
    echo "$words"
}}
"""
    if shell == "zsh":
        script += "autoload -U +X bashcompinit && bashcompinit\n"
    return script + "complete -o default -F _labflow labflow\n"
