"""Every limit labflow puts on what it reads, in one place.

Documents, policies and CSV files come from other people, and a host loads
them on a request: each limit below keeps the cost of reading hostile input
proportional to its size with a small constant, and refuses what no honest
input needs with labflow's own error. ``docs/limits.md`` lists them for hosts;
the public modules re-export the ones a host may want to check before calling
(`labflow.serde.MAX_DOCUMENT_BYTES`, ...).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "MAX_CSV_BYTES",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_IDENT_LENGTH",
    "MAX_INT",
    "MAX_ITEMS",
    "MAX_POLICY_BYTES",
    "MAX_PROBLEMS",
    "MAX_TEXT_LENGTH",
    "MIN_BYTES_PER_CONTAINER",
    "MIN_INT",
]

#: A JSON document (`labflow.serde`) larger than this, in bytes, is refused before parsing.
MAX_DOCUMENT_BYTES: Final = 64 * 1024 * 1024
#: A policy file (TOML), its ``extends`` parents included one by one, larger than this is refused
#: before parsing; a bounded read never takes more than this from any file.
MAX_POLICY_BYTES: Final = 4 * 1024 * 1024
#: A cohort CSV (units, ideas, actors) larger than this, in characters, is refused.
MAX_CSV_BYTES: Final = 16 * 1024 * 1024
#: JSON values nested deeper than this are refused (free-form payloads, policy parameters, and
#: whole documents: the JSON parsers are not asked to recurse further).
MAX_DEPTH: Final = 32
#: At most this many problems are listed; the last says how many more there were. Validation
#: stops collecting at this count rather than trimming afterwards.
MAX_PROBLEMS: Final = 100
#: A JSON document with more arrays and objects than one per this many bytes is refused before
#: parsing (counted in one pass over its bytes): a parser spends 100 to 300 bytes on each, so a
#: document of nothing but ``{},`` would otherwise cost 36 times its size in memory. Real
#: documents hold one per 50 bytes or more.
MIN_BYTES_PER_CONTAINER: Final = 20
#: An array in a document (events of a history, units, innovations) longer than this is refused.
MAX_ITEMS: Final = 5_000_000
#: An identifier (lab, unit, actor, innovation, role) longer than this, in characters, is refused.
MAX_IDENT_LENGTH: Final = 200
#: A free text (a title, a problem statement, agreement terms) longer than this is refused.
MAX_TEXT_LENGTH: Final = 100_000
#: The integers every JSON backend labflow uses (and most languages' JSON readers) write and
#: read back exactly: signed 64 bits. Budgets, policy parameters and document integers outside
#: this range are refused, naming the field.
MIN_INT: Final = -(2**63)
MAX_INT: Final = 2**63 - 1
