"""gunicorn settings for learnnet, read from the working directory (or ``--config``).

    gunicorn --config gunicorn.conf.py --workers 4 --bind 127.0.0.1:8000 'learnnet:create_app()'

The command line sets workers and address; this file says how a worker starts (issue 11):

- The app is loaded once, in the master, warmed up (templates compiled, the languages'
  dates and catalogues read), and then the garbage collector's view of all of it is
  frozen before the workers are forked. The workers share those pages with the master
  instead of each holding a copy (a worker's own memory went from 93 to 62 MB), and a
  full collection no longer walks the whole app: it took 70-120 ms once every few
  requests, most of the slow tail (p90 at twice the median).
- The young generation is collected less often: a list page makes a few hundred thousand
  short-lived objects, and the default (every 700 allocations) passes over them again and
  again.
- A worker has no ``flask db`` commands: Alembic would take 12 MB of each (config.py).

Because the app is loaded before the fork, a new version needs a restart of gunicorn (as
after ``flask db upgrade`` anyway); ``kill -HUP`` alone keeps the old code.
"""

from __future__ import annotations

import gc
import os
from typing import Any

os.environ.setdefault("LEARNNET_MIGRATION_COMMANDS", "false")

preload_app = True
GC_THRESHOLDS = (20_000, 20, 20)


def when_ready(server: Any) -> None:
    """In the master, with the app loaded and before any worker is forked."""
    from learnnet.templating import warm_up

    warm_up(server.app.wsgi())
    gc.collect()
    gc.freeze()


def post_fork(server: Any, worker: Any) -> None:
    """In a new worker: its own database connections, never the master's."""
    from learnnet.extensions import db

    app = server.app.wsgi()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
    gc.set_threshold(*GC_THRESHOLDS)
