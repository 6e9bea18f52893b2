"""Celery entry point: `celery -A celery_app worker -Q dial` (one pool per queue) or `beat`."""
from app import create_app
from app.ops import configure_process_logging

flask_app = create_app()
configure_process_logging(flask_app)
celery = flask_app.extensions["celery"]
