"""A web host for labflow: FastAPI + Jinja2 server-rendered pages, no front-end build.

`create_app` embeds labflow with its asyncio store: an SQLite file by default,
a PostgreSQL server when given a ``postgresql://`` URL (as ``labflow --db``
takes). Run it with::

    python -m labweb --db labflow-demo.db
    uvicorn --factory labweb:create_app          # the store from LABFLOW_DB

after ``labflow demo`` has written ``labflow-demo.db``.
"""

from labweb.app import DB_ENV, HTTP_STATUS, create_app, open_store

__all__ = ["DB_ENV", "HTTP_STATUS", "create_app", "open_store"]
