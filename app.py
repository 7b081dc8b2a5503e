"""`gunicorn app:app` from the repository root; configure with MOCKJOBS_* variables."""

from mockjobs import create_app

app = create_app()
