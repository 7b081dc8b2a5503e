"""gunicorn settings for `gunicorn app:app` from the repository root (gunicorn reads this file itself).

They are mockjobs' own, shipped in the package as `mockjobs.gunicorn_conf` (outside the
checkout: `gunicorn -c python:mockjobs.gunicorn_conf 'mockjobs:create_app()'`): gthread
workers, and one temporary state for every worker when neither MOCKJOBS_STATE nor
MOCKJOBS_STORE is set. Command-line options still override these.
"""

from mockjobs.gunicorn_conf import *  # noqa: F403
