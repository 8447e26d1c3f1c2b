"""``labflow checkpoint`` and ``labflow verify --checkpoint``: sealed checkpoints from a terminal.

Why a module of its own: keys. A checkpoint is only worth what its key is worth, so the
command takes the key from a file (``--key``) or an environment variable (``--key-env``,
default ``LABFLOW_CHECKPOINT_KEY``) -- never from an argument, which other users of the
machine can read -- and never writes it anywhere. HMAC keys are bytes (the standard
library); an Ed25519 key is PEM (``openssl genpkey -algorithm ed25519``), read with the
optional ``cryptography`` (``labflow[sign]``): the private key seals, the public key alone
verifies. The statement itself is `labflow.store.checkpoint`'s JSON document.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, Final

from labflow._cli._common import (
    EXIT_OK,
    EXIT_UNVERIFIED,
    CommandOutput,
    NoLab,
    Store,
    Unverified,
    Usage,
    lab_id_of,
    open_store,
    reason_of,
)
from labflow._terminal import printable
from labflow.errors import HistoryError
from labflow.events import Verification
from labflow.store.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointReport,
    Finding,
    make_checkpoint,
    verify_checkpoint,
)

#: The environment variable read for the key when neither ``--key`` nor ``--key-env`` is given.
KEY_ENV: Final = "LABFLOW_CHECKPOINT_KEY"
#: A key file larger than this is not a key (read in bounded memory).
_MAX_KEY_BYTES: Final = 64 * 1024
#: A checkpoint file larger than this is refused before it is read.
_MAX_CHECKPOINT_BYTES: Final = 256 * 1024 * 1024


def _bounded(path: str, limit: int, too_large: str) -> bytes:
    """A file's bytes, refused (``too_large``) without reading past ``limit``."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise Usage("error.unreadable", path=path, reason=reason_of(exc)) from exc
    if len(data) > limit:
        raise Usage(too_large, path=path, reason=f"more than {limit} bytes")
    return data


def _key_bytes(args: argparse.Namespace) -> bytes:
    if args.key:
        return _bounded(args.key, _MAX_KEY_BYTES, "error.key_too_large")
    name = args.key_env or KEY_ENV
    value = os.environb.get(os.fsencode(name)) if os.name != "nt" else None
    if value is None and os.name == "nt":  # pragma: no cover - no environb on Windows
        text = os.environ.get(name)
        value = text.encode("utf-8") if text is not None else None
    if value is None:
        raise Usage("error.key_env_unset" if args.key_env else "error.no_key", name=name)
    return value


def read_key(args: argparse.Namespace, *, sealing: bool) -> object:
    """The key ``--key`` / ``--key-env`` names: HMAC bytes, or an Ed25519 key from PEM.

    Sealing needs the private key; verifying takes the public key (or the private key,
    whose public half is then used). Line ends at the end of a key are not part of it
    (a key written by ``echo`` or an editor reads the same as one written by ``printf``).
    """
    data = _key_bytes(args).rstrip(b"\r\n")
    if not data.lstrip().startswith(b"-----BEGIN"):
        if len(data) < 16:
            raise Usage("error.key_short", n=len(data))
        return data
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import (
            Ed25519PrivateKey,
            Ed25519PublicKey,
        )
    except ImportError as exc:
        raise Usage("error.no_cryptography") from exc
    key: Any
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, TypeError) as exc:
            raise Usage("error.key_unreadable", reason=printable(str(exc))) from exc
    except Exception as exc:  # cryptography's UnsupportedAlgorithm and the like
        raise Usage("error.key_unreadable", reason=printable(str(exc))) from exc
    if isinstance(key, Ed25519PrivateKey):
        return key if sealing else key.public_key()
    if isinstance(key, Ed25519PublicKey):
        if sealing:
            raise Usage("error.key_public_only")
        return key
    raise Usage("error.key_unreadable", reason=type(key).__name__)


def _first_failure(results: list[Verification]) -> HistoryError | None:
    bad = [r for r in results if not r.ok]
    if not bad:
        return None
    return HistoryError(bad[0].subject, bad[0].seq, bad[0].reason or "unknown problem")


def checkpoint(args: argparse.Namespace, out: CommandOutput) -> int:
    key = read_key(args, sealing=True)  # a bad key is refused before anything is read
    target = Path(args.out)
    if target.exists() or target.is_symlink():
        raise Usage("error.checkpoint_exists", path=args.out)
    with open_store(args) as store:
        labs = [lab_id_of(store, args)] if args.lab else store.lab_ids()
        if not labs:
            raise NoLab("error.empty_db", db=str(store.path))
        with out.status(out.word("verifying")):
            # The store's own check (heads, rows, vanished streams) before anything is
            # sealed: a checkpoint of a tampered database would bless the tampering.
            for lab_id in labs:
                failure = _first_failure(list(store.verify_all(lab_id)[lab_id]))
                if failure is not None:
                    raise failure
            try:
                sealed = make_checkpoint(store, key, labs=labs)
            except CheckpointError as exc:  # a history changed between the two reads
                raise HistoryError(labs[0], None, str(exc)) from exc
    try:
        with open(target, "x", encoding="utf-8") as handle:
            handle.write(sealed.to_json() + "\n")
    except FileExistsError as exc:
        raise Usage("error.checkpoint_exists", path=args.out) from exc
    except OSError as exc:
        raise Usage("error.unwritable", path=args.out, reason=reason_of(exc)) from exc
    events = sum(leaf.seq for leaf in sealed.leaves)
    if out.as_json:
        out.json(
            {
                "checkpoint": args.out,
                "labs": labs,
                "histories": len(sealed.leaves),
                "events": events,
                "root": sealed.root,
                "algorithm": sealed.algorithm,
                "made_at": sealed.made_at.isoformat(),
            }
        )
        return EXIT_OK
    out.say(
        out.t(
            "done.sealed",
            n=len(sealed.leaves),
            labs=len(labs),
            events=events,
            path=printable(args.out),
        ),
        style="green",
    )
    out.say(
        out.t(
            "done.sealed_root",
            algorithm=sealed.algorithm,
            root=sealed.root,
            path=printable(args.out),
        )
    )
    return EXIT_OK


def read_checkpoint(path: str) -> Checkpoint:
    """The checkpoint document at ``path``; exit 2 for anything that is not one."""
    data = _bounded(path, _MAX_CHECKPOINT_BYTES, "error.not_checkpoint")
    try:
        return Checkpoint.from_json(data)
    except CheckpointError as exc:
        raise Usage("error.not_checkpoint", path=path, reason=printable(str(exc))) from exc


def finding_text(out: CommandOutput, finding: Finding) -> str:
    """A finding as a sentence in the output's language."""
    return out.t(
        f"checkpoint.{finding.problem}",
        lab=finding.lab,
        subject=finding.subject,
        sealed=finding.sealed,
        held=finding.held,
        seq=finding.seq or 0,
        reason=out.reason(finding.reason),
    )


def check_checkpoint(
    args: argparse.Namespace, out: CommandOutput, store: Store
) -> tuple[Checkpoint, CheckpointReport]:
    """Verify ``--checkpoint`` against ``store``: exit 5 if its signature does not hold."""
    checkpoint = read_checkpoint(args.checkpoint)
    key = read_key(args, sealing=False)
    wanted = {"hmac-sha256": bytes, "ed25519": None}
    if checkpoint.algorithm not in wanted:
        raise Usage(
            "error.not_checkpoint",
            path=args.checkpoint,
            reason=printable(f"unknown algorithm {checkpoint.algorithm!r}"),
        )
    if (checkpoint.algorithm == "hmac-sha256") != isinstance(key, bytes):
        kind = "key.hmac" if checkpoint.algorithm == "hmac-sha256" else "key.ed25519"
        raise Usage("error.key_kind", algorithm=checkpoint.algorithm, wanted=out.t(kind))
    try:
        report = verify_checkpoint(store, checkpoint, key)
    except CheckpointError as exc:
        raise Unverified("error.checkpoint_forged", path=printable(args.checkpoint)) from exc
    return checkpoint, report


def verify_with_checkpoint(args: argparse.Namespace, out: CommandOutput) -> int:
    """``labflow verify --checkpoint FILE``: every chain of the sealed labs, then the seal."""
    with open_store(args) as store:
        checkpoint, report = check_checkpoint(args, out, store)
        present = set(store.lab_ids())
        labs = sorted({leaf.lab for leaf in checkpoint.leaves} & present)
        with out.status(out.word("verifying")):
            results = [v for lab in labs for v in store.verify_all(lab)[lab]]
    events = sum(r.length for r in results)
    bad = [r for r in results if not r.ok]
    made_at = checkpoint.made_at.isoformat(timespec="seconds")
    if out.as_json:
        out.json(
            {
                "ok": not bad and report.ok,
                "histories": len(results),
                "events": events,
                "failures": [{"subject": r.subject, "seq": r.seq, "reason": r.reason} for r in bad],
                "checkpoint": {
                    "file": args.checkpoint,
                    "made_at": checkpoint.made_at.isoformat(),
                    "root": checkpoint.root,
                    "algorithm": checkpoint.algorithm,
                    "streams": report.streams,
                    "ok": report.ok,
                    "findings": [
                        {**f.as_json(), "message": finding_text(out, f)} for f in report.findings
                    ],
                },
            }
        )
    else:
        if not bad:
            out.say(out.t("done.verified", n=len(results), events=events), style="green")
        if report.ok:
            out.say(
                out.t(
                    "done.checkpoint_holds",
                    made_at=made_at,
                    n=report.streams,
                    root=checkpoint.root,
                ),
                style="green",
            )
    if not report.ok:
        out.note(out.t("checkpoint.broken", made_at=made_at, n=len(report.findings)), style="red")
        for finding in report.findings:
            out.note(f"  - {finding_text(out, finding)}")
    failure = _first_failure(bad)
    if failure is not None:
        raise failure
    return EXIT_OK if report.ok else EXIT_UNVERIFIED
