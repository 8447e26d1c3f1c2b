"""Sealed checkpoints: a small signed statement of every stream's length and head.

Why: the hash chain proves a history is internally consistent, not that it is the
history that was written. Whoever can write the database can cut a tail and move
the stored head, rewrite a whole history with recomputed hashes, or delete an
innovation with its row, and every chain still verifies. A checkpoint, taken now
and kept *outside* the database (published, mailed to an inspectorate, printed in
a report), fixes what existed: for every stream, its sequence number and head
hash, with a Merkle root over them so that one value can be published. Later,
`verify_checkpoint` proves each checkpointed history is still an unchanged prefix
of what is stored and that no checkpointed stream vanished.

Signing: an HMAC-SHA256 key (standard library; whoever verifies holds the same
key) or an Ed25519 private key (optional extra ``labflow[sign]``; an inspectorate
verifies with the public key alone). Keys are passed in by the caller and never
stored in the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import attrs

from labflow._guards import need, need_all
from labflow.errors import StoreError
from labflow.events import verify
from labflow.store import Store

__all__ = [
    "FORMAT",
    "Checkpoint",
    "CheckpointError",
    "CheckpointReport",
    "Leaf",
    "make_checkpoint",
    "merkle_root",
    "verify_checkpoint",
]

#: The statement's format name; a statement in another format is refused.
FORMAT: Final = "labflow-checkpoint/1"
#: A statement larger than this is not a checkpoint (read in bounded memory).
_MAX_BYTES: Final = 256 * 1024 * 1024


class CheckpointError(StoreError):
    """A checkpoint cannot be made, read, or its signature does not hold."""


@attrs.frozen
class Leaf:
    """One stream at the checkpoint: its lab, subject, whether it is the lab's own, seq, head."""

    lab: str
    subject: str
    own: bool
    seq: int
    head: str

    def as_json(self) -> dict[str, Any]:
        return {
            "lab": self.lab,
            "subject": self.subject,
            "own": self.own,
            "seq": self.seq,
            "head": self.head,
        }


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _order(leaf: Leaf) -> tuple[str, bool, str]:
    return (leaf.lab, not leaf.own, leaf.subject)


def merkle_root(leaves: Iterable[Leaf]) -> str:
    """The SHA-256 Merkle root over the leaves, in (lab, own first, subject) order.

    Leaves and inner nodes are hashed with distinct prefixes (0x00, 0x01), so a leaf
    can never pass for a node; an odd node at a level is carried up unchanged.
    """
    leaves = list(leaves) if isinstance(leaves, list | tuple) else leaves
    need_all(leaves, Leaf, "checkpoint leaves", "merkle_root")
    level = [
        hashlib.sha256(b"\x00" + _canonical(leaf.as_json())).digest()
        for leaf in sorted(leaves, key=_order)
    ]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        nxt = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0].hex()


@attrs.frozen
class Checkpoint:
    """A signed statement of every stream's seq and head (see the module's docstring)."""

    made_at: datetime
    leaves: tuple[Leaf, ...]
    root: str
    algorithm: str  #: ``hmac-sha256`` or ``ed25519``
    signature: str  #: hex

    def statement(self) -> dict[str, Any]:
        """What is signed: everything but the signature."""
        return {
            "format": FORMAT,
            "made_at": self.made_at.isoformat(),
            "root": self.root,
            "algorithm": self.algorithm,
            "streams": [leaf.as_json() for leaf in self.leaves],
        }

    def to_json(self) -> str:
        """The checkpoint as a JSON document (what to keep outside the database)."""
        return json.dumps({**self.statement(), "signature": self.signature}, indent=1)

    @classmethod
    def from_json(cls, text: str | bytes) -> Checkpoint:
        """Read a checkpoint document; `CheckpointError` for anything that is not one."""
        if len(text) > _MAX_BYTES:
            raise CheckpointError("This is not a labflow checkpoint: it is far too large.")
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError(f"its format is not {FORMAT}")
            leaves = tuple(
                Leaf(
                    _text(s["lab"]),
                    _text(s["subject"]),
                    _flag(s["own"]),
                    _count(s["seq"]),
                    _text(s["head"]),
                )
                for s in data["streams"]
            )
            return cls(
                datetime.fromisoformat(_text(data["made_at"])),
                leaves,
                _text(data["root"]),
                _text(data["algorithm"]),
                _text(data["signature"]),
            )
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            raise CheckpointError(f"This is not a labflow checkpoint ({exc}).") from exc


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not text")
    return value


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{value!r} is not true or false")
    return value


def _count(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise TypeError(f"{value!r} is not a sequence number")
    return value


# --- Keys ----------------------------------------------------------------------------------


def _sign(message: bytes, key: object) -> tuple[str, str]:
    """``(algorithm, signature hex)`` for ``key``: HMAC bytes or an Ed25519 private key."""
    if isinstance(key, bytes | bytearray):
        if len(key) < 16:
            raise CheckpointError("An HMAC key must be at least 16 bytes.")
        return "hmac-sha256", hmac.new(bytes(key), message, hashlib.sha256).hexdigest()
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    except ImportError as exc:  # pragma: no cover - the extra is installed in tests
        raise CheckpointError("Ed25519 keys need the sign extra: labflow[sign].") from exc
    if isinstance(key, Ed25519PrivateKey):
        return "ed25519", key.sign(message).hex()
    raise CheckpointError("Sign with HMAC key bytes or an Ed25519 private key.")


def _signature_holds(checkpoint: Checkpoint, message: bytes, key: object) -> bool:
    try:
        signature = bytes.fromhex(checkpoint.signature)
    except ValueError:
        return False
    if checkpoint.algorithm == "hmac-sha256":
        if not isinstance(key, bytes | bytearray):
            raise CheckpointError("This checkpoint is sealed with HMAC: give its key bytes.")
        expected = hmac.new(bytes(key), message, hashlib.sha256).digest()
        return hmac.compare_digest(expected, signature)
    if checkpoint.algorithm == "ed25519":
        try:
            from cryptography.exceptions import InvalidSignature
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        except ImportError as exc:  # pragma: no cover
            raise CheckpointError("Ed25519 keys need the sign extra: labflow[sign].") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise CheckpointError("This checkpoint is sealed with Ed25519: give the public key.")
        try:
            key.verify(signature, message)
        except InvalidSignature:
            return False
        return True
    raise CheckpointError(f"Unknown checkpoint algorithm {checkpoint.algorithm!r}.")


# --- Making and checking -------------------------------------------------------------------


def _streams(store: Store, lab_id: str) -> dict[tuple[bool, str], Sequence[Any]]:
    found: dict[tuple[bool, str], Sequence[Any]] = {(True, lab_id): store.history(lab_id)}
    for history in store.histories(lab_id):
        if history:
            found[(False, history[0].subject)] = history
    return found


def make_checkpoint(
    store: Store, key: object, *, labs: Sequence[str] | None = None, now: datetime | None = None
) -> Checkpoint:
    """Seal every stream of ``store`` (or of ``labs``) as it is now, signed with ``key``.

    Every history is verified first: a checkpoint never seals a history that does not
    verify (`CheckpointError` names it).
    """
    need(store, Store, "a labflow store", "make_checkpoint")
    leaves: list[Leaf] = []
    for lab_id in labs if labs is not None else store.lab_ids():
        for (own, subject), history in _streams(store, lab_id).items():
            result = verify(history)
            if not result.ok:
                raise CheckpointError(
                    f"Refused to seal lab {lab_id!r}: the history of {subject} does not verify "
                    f"at event {result.seq} ({result.reason})."
                )
            if history:
                leaves.append(Leaf(lab_id, subject, own, len(history), history[-1].hash))
    leaves.sort(key=_order)
    made_at = now if now is not None else datetime.now(UTC)
    algorithm = "hmac-sha256" if isinstance(key, bytes | bytearray) else "ed25519"
    unsigned = Checkpoint(made_at, tuple(leaves), merkle_root(leaves), algorithm, "")
    signed_with, signature = _sign(_canonical(unsigned.statement()), key)
    assert signed_with == algorithm
    return attrs.evolve(unsigned, signature=signature)


@attrs.frozen
class CheckpointReport:
    """What `verify_checkpoint` found: ``ok``, or one sentence per problem."""

    streams: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_checkpoint(store: Store, checkpoint: Checkpoint, key: object) -> CheckpointReport:
    """Prove every checkpointed history is still an unchanged prefix of what is stored.

    ``key`` is the HMAC key bytes or the Ed25519 *public* key. A signature or root
    that does not hold raises `CheckpointError` (nothing in the statement can be
    trusted then); otherwise each problem found in the store is reported: a stream
    that vanished, one cut shorter than it was, one whose event at the checkpointed
    position is not the one sealed (a rewrite, even with recomputed hashes), and a
    history that no longer verifies.
    """
    need(store, Store, "a labflow store", "verify_checkpoint")
    need(checkpoint, Checkpoint, "a Checkpoint", "verify_checkpoint")
    message = _canonical(checkpoint.statement())
    if not _signature_holds(checkpoint, message, key):
        raise CheckpointError("The checkpoint's signature does not hold: it was altered.")
    if merkle_root(checkpoint.leaves) != checkpoint.root:
        raise CheckpointError("The checkpoint's streams do not give its Merkle root.")
    problems: list[str] = []
    known = set(store.lab_ids())
    by_lab: dict[str, list[Leaf]] = {}
    for leaf in checkpoint.leaves:
        by_lab.setdefault(leaf.lab, []).append(leaf)
    for lab_id, leaves in sorted(by_lab.items()):
        if lab_id not in known:
            problems.append(f"The lab {lab_id!r} has vanished from the store.")
            continue
        streams: Mapping[tuple[bool, str], Sequence[Any]] = _streams(store, lab_id)
        for leaf in leaves:
            name = f"the history of {leaf.subject} in lab {lab_id!r}"
            history = streams.get((leaf.own, leaf.subject))
            if not history:
                problems.append(f"{name.capitalize()} has vanished.")
            elif len(history) < leaf.seq:
                problems.append(
                    f"{name.capitalize()} holds {len(history)} events; it held {leaf.seq}."
                )
            elif history[leaf.seq - 1].hash != leaf.head:
                problems.append(
                    f"{name.capitalize()} was rewritten: event {leaf.seq} is not the one sealed."
                )
            else:
                result = verify(history)
                if not result.ok:
                    problems.append(
                        f"{name.capitalize()} does not verify at event {result.seq}: "
                        f"{result.reason}."
                    )
    return CheckpointReport(len(checkpoint.leaves), tuple(problems))
