"""`make bench` (``python -m bench``): mockjobs under gunicorn against baselines, with wrk.

Modules: :mod:`bench.apps` (the bare Flask and raw WSGI baselines), :mod:`bench.serve` (runs
a baseline under mockjobs' own gunicorn settings), :mod:`bench.servers` (starting, probing
and measuring server processes), :mod:`bench.wrk` (the load generator), :mod:`bench.scenarios`
(scenario files and seeded state databases in a temporary folder), :mod:`bench.report`
(figures, targets, PASS/MISS), :mod:`bench.profile` (py-spy of the GET hot path) and
:mod:`bench.control_api` (the control API's job list and job creation against another revision).
"""
