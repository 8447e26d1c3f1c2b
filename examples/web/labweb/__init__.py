"""A web host for labflow: FastAPI + Jinja2 server-rendered pages, no front-end build.

`create_app` embeds labflow with its SQLite store (one file, the same as the
``labflow`` command writes). Run it with::

    uvicorn --factory labweb:create_app

after ``labflow demo`` has written ``labflow-demo.db`` (or set ``LABFLOW_DB``).
"""

from labweb.app import create_app

__all__ = ["create_app"]
