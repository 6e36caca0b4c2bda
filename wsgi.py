"""WSGI entry point: ``gunicorn wsgi:app``."""

from api import create_app
from dispatch import periodic, queue

app = create_app()

# With no Redis there is no rq worker: each API process runs the periodic tasks itself (the
# claim in periodic_runs keeps one run per period across the processes).
if queue.mode() == "inline":
    periodic.Runner().start()
