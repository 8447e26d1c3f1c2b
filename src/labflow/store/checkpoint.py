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
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import attrs

from labflow._guards import need, need_all
from labflow.errors import StoreError
from labflow.events import Event, verify
from labflow.store import Store

if TYPE_CHECKING:
    from labflow.store import AsyncStore

__all__ = [
    "FORMAT",
    "Checkpoint",
    "CheckpointError",
    "CheckpointReport",
    "Finding",
    "Leaf",
    "make_checkpoint",
    "make_checkpoint_async",
    "merkle_root",
    "verify_checkpoint",
    "verify_checkpoint_async",
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

#: One lab's streams, keyed by (is the lab's own, subject).
_Streams = dict[tuple[bool, str], Sequence[Event]]


def _streams(store: Store, lab_id: str) -> _Streams:
    found: _Streams = {(True, lab_id): store.history(lab_id)}
    for history in store.histories(lab_id):
        if history:
            found[(False, history[0].subject)] = history
    return found


async def _streams_async(store: AsyncStore, lab_id: str) -> _Streams:
    found: _Streams = {(True, lab_id): await store.history(lab_id)}
    for history in await store.histories(lab_id):
        if history:
            found[(False, history[0].subject)] = history
    return found


def _seal(labs: Mapping[str, _Streams], key: object, now: datetime | None) -> Checkpoint:
    """The signed statement over ``labs`` (every history verified first)."""
    if not isinstance(key, bytes | bytearray):  # say what a key is before any work is done
        _sign(b"", key)
    leaves: list[Leaf] = []
    for lab_id, streams in labs.items():
        for (own, subject), history in streams.items():
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
    if not isinstance(made_at, datetime) or made_at.tzinfo is None:
        raise CheckpointError("A checkpoint's time must be an aware datetime.")
    algorithm = "hmac-sha256" if isinstance(key, bytes | bytearray) else "ed25519"
    unsigned = Checkpoint(made_at, tuple(leaves), merkle_root(leaves), algorithm, "")
    signed_with, signature = _sign(_canonical(unsigned.statement()), key)
    assert signed_with == algorithm
    return attrs.evolve(unsigned, signature=signature)


def _lab_ids(labs: Sequence[str] | None, every: Sequence[str]) -> list[str]:
    if labs is None:
        return list(every)
    if isinstance(labs, str) or not all(isinstance(lab, str) for lab in labs):
        raise CheckpointError("labs names lab ids: a list of strings.")
    missing = sorted(set(labs) - set(every))
    if missing:
        raise CheckpointError(f"There is no lab {missing[0]!r} to seal.")
    return list(dict.fromkeys(labs))


def make_checkpoint(
    store: Store, key: object, *, labs: Sequence[str] | None = None, now: datetime | None = None
) -> Checkpoint:
    """Seal every stream of ``store`` (or of ``labs``) as it is now, signed with ``key``.

    Every history is verified first: a checkpoint never seals a history that does not
    verify (`CheckpointError` names it).
    """
    need(store, Store, "a labflow store", "make_checkpoint")
    ids = _lab_ids(labs, store.lab_ids())
    return _seal({lab_id: _streams(store, lab_id) for lab_id in ids}, key, now)


def make_checkpoint_async(
    store: AsyncStore,
    key: object,
    *,
    labs: Sequence[str] | None = None,
    now: datetime | None = None,
) -> Coroutine[Any, Any, Checkpoint]:
    """`make_checkpoint` for an `labflow.store.AsyncStore`: ``await`` what it returns.

    The arguments are checked when it is called (`labflow.LabflowError` then), the
    store is read when it is awaited.
    """
    from labflow.store import AsyncStore

    need(store, AsyncStore, "an asyncio labflow store", "make_checkpoint_async")
    if not isinstance(key, bytes | bytearray):
        _sign(b"", key)  # an Ed25519 private key, or CheckpointError

    async def seal() -> Checkpoint:
        ids = _lab_ids(labs, await store.lab_ids())
        return _seal({lab_id: await _streams_async(store, lab_id) for lab_id in ids}, key, now)

    return seal()


@attrs.frozen
class Finding:
    """One thing a checkpoint found changed in the store.

    ``problem`` is ``lab_vanished`` (the whole lab is gone), ``vanished`` (the history
    is gone), ``cut`` (it holds ``held`` events where ``sealed`` were sealed),
    ``rewritten`` (its event ``sealed`` is not the one sealed: a rewrite, even with
    recomputed hashes) or ``unverified`` (its chain breaks at ``seq``: ``reason``).
    """

    lab: str
    subject: str
    problem: str
    sealed: int
    held: int = 0
    seq: int | None = None
    reason: str | None = None

    def sentence(self) -> str:
        """The finding as one English sentence."""
        name = f"The history of {self.subject} in lab {self.lab!r}"
        if self.problem == "lab_vanished":
            return f"The lab {self.lab!r} has vanished from the store."
        if self.problem == "vanished":
            return f"{name} has vanished."
        if self.problem == "cut":
            return f"{name} holds {self.held} events; it held {self.sealed}."
        if self.problem == "rewritten":
            return f"{name} was rewritten: event {self.sealed} is not the one sealed."
        return f"{name} does not verify at event {self.seq}: {self.reason}."

    def as_json(self) -> dict[str, Any]:
        return {
            "lab": self.lab,
            "subject": self.subject,
            "problem": self.problem,
            "sealed": self.sealed,
            "held": self.held,
            "seq": self.seq,
            "reason": self.reason,
        }


@attrs.frozen
class CheckpointReport:
    """What `verify_checkpoint` found: ``ok``, or one `Finding` per problem."""

    streams: int
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def problems(self) -> tuple[str, ...]:
        """Each finding as one English sentence."""
        return tuple(f.sentence() for f in self.findings)


def _trusted(checkpoint: Checkpoint, key: object) -> dict[str, list[Leaf]]:
    """The checkpoint's leaves by lab, once its signature and root hold."""
    need(checkpoint, Checkpoint, "a Checkpoint", "verify_checkpoint")
    message = _canonical(checkpoint.statement())
    if not _signature_holds(checkpoint, message, key):
        raise CheckpointError("The checkpoint's signature does not hold: it was altered.")
    if merkle_root(checkpoint.leaves) != checkpoint.root:
        raise CheckpointError("The checkpoint's streams do not give its Merkle root.")
    by_lab: dict[str, list[Leaf]] = {}
    for leaf in checkpoint.leaves:
        by_lab.setdefault(leaf.lab, []).append(leaf)
    return by_lab


def _compare(lab_id: str, leaves: Sequence[Leaf], streams: _Streams | None) -> list[Finding]:
    """What changed in one lab's streams since its leaves were sealed."""
    if streams is None:
        return [Finding(lab_id, lab_id, "lab_vanished", 0)]
    found: list[Finding] = []
    for leaf in leaves:
        history = streams.get((leaf.own, leaf.subject))
        if not history:
            found.append(Finding(lab_id, leaf.subject, "vanished", leaf.seq))
        elif len(history) < leaf.seq:
            found.append(Finding(lab_id, leaf.subject, "cut", leaf.seq, len(history)))
        elif history[leaf.seq - 1].hash != leaf.head:
            found.append(Finding(lab_id, leaf.subject, "rewritten", leaf.seq, len(history)))
        else:
            result = verify(history)
            if not result.ok:
                found.append(
                    Finding(
                        lab_id,
                        leaf.subject,
                        "unverified",
                        leaf.seq,
                        len(history),
                        result.seq,
                        result.reason,
                    )
                )
    return found


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
    by_lab = _trusted(checkpoint, key)
    known = set(store.lab_ids())
    findings: list[Finding] = []
    for lab_id, leaves in sorted(by_lab.items()):
        streams = _streams(store, lab_id) if lab_id in known else None
        findings += _compare(lab_id, leaves, streams)
    return CheckpointReport(len(checkpoint.leaves), tuple(findings))


def verify_checkpoint_async(
    store: AsyncStore, checkpoint: Checkpoint, key: object
) -> Coroutine[Any, Any, CheckpointReport]:
    """`verify_checkpoint` for an `labflow.store.AsyncStore`: ``await`` what it returns.

    The signature and root are checked when it is called (`CheckpointError` then, as
    `verify_checkpoint` raises), the store is read when it is awaited.
    """
    from labflow.store import AsyncStore

    need(store, AsyncStore, "an asyncio labflow store", "verify_checkpoint_async")
    by_lab = _trusted(checkpoint, key)

    async def check() -> CheckpointReport:
        known = set(await store.lab_ids())
        findings: list[Finding] = []
        for lab_id, leaves in sorted(by_lab.items()):
            streams = await _streams_async(store, lab_id) if lab_id in known else None
            findings += _compare(lab_id, leaves, streams)
        return CheckpointReport(len(checkpoint.leaves), tuple(findings))

    return check()
