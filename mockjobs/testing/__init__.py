"""A live mock Mission Server for tests, with or without pytest.

:class:`MockjobsServer` runs the mock in a thread on a free port; :class:`MockJobs` (what
the ``mockjobs`` pytest fixture is) starts jobs, moves the clock, adds faults and reads the
request journal; :class:`MockJob` is one job. Importing this package is cheap: Flask and the
mockjobs internals load when a server is built.
"""

from __future__ import annotations

from .api import Duration, Instant, MockClock, MockFault, MockJob, MockJobs, MockjobsServerError, PollStats
from .server import AppInstance, MockjobsServer

__all__ = [
    "AppInstance",
    "Duration",
    "Instant",
    "MockClock",
    "MockFault",
    "MockJob",
    "MockJobs",
    "MockjobsServer",
    "MockjobsServerError",
    "PollStats",
]
