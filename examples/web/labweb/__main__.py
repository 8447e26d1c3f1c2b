"""``python -m labweb``: serve the web host on the store ``--db`` names."""

from __future__ import annotations

import argparse
import os

import uvicorn

from labweb.app import DB_ENV, create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m labweb", description=__doc__)
    parser.add_argument(
        "--db",
        default=os.environ.get(DB_ENV, "labflow-demo.db"),
        help=f"an SQLite file (or sqlite:///path) or a postgresql:// URL; default ${DB_ENV}",
    )
    parser.add_argument("--lab", default=None, help="the lab's id (default: the first lab)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    uvicorn.run(create_app(args.db, lab_id=args.lab), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
