"""Celery bound to the Flask app: each task runs inside its own app context."""
from __future__ import annotations

from celery import Celery, Task
from flask import Flask

WORKER_MODULES = ["workers.default", "workers.telephony", "workers.dial", "workers.kpi"]


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask, include=WORKER_MODULES)
    celery.config_from_object(app.config["CELERY"])
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
