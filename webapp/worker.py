"""The job worker's entry: `huey_consumer webapp.worker.huey`.

The queue with every feature's tasks and sweep steps registered (the same plug-ins the web app loads).
"""

from webapp import load_plugins
from webapp.jobs import huey

load_plugins()

__all__ = ["huey"]
