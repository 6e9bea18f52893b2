"""WSGI entry point: `gunicorn wsgi:app`."""
from app import create_app
from app.ops import configure_process_logging

app = create_app()
configure_process_logging(app)

with app.app_context():
    from app.agents.audio import report_audio_paths

    report_audio_paths()
