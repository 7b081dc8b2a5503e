"""gunicorn settings for `gunicorn app:app` from the repository root (gunicorn reads this file itself).

The same worker class as `mockjobs serve`: gthread, so a delayed answer (a fault's `delay`)
holds one thread of its worker, not the worker; other clients' polls go on meanwhile.
Command-line options still override these.
"""

worker_class = "gthread"
threads = 4
