"""Every limit mockjobs enforces, in one place (the README's "Limits" section lists them)."""

from __future__ import annotations

MAX_BODY_BYTES = 1 << 20  # Flask's MAX_CONTENT_LENGTH: a larger request body is refused with 413
MAX_SCENARIO_BYTES = 512 << 10  # a scenario's YAML text (a JSON body is measured as its YAML form)
MAX_EVENTS = 10_000  # events in a timeline, and in an on_cancel story (make bench replays 10,000)
MAX_YAML_VALUES = 50_000  # values in one scenario document, counting each use of an alias
MAX_STRING = 10_000  # characters in one text value of a scenario, a var or a param
MAX_NAME = 100  # characters in a scenario name
MAX_JOB_ID = 128  # characters in a job id
MIN_SPEED = 0.001  # scenario seconds per real second: a job a thousand times slower than written
MAX_SPEED = 1e6  # a job a million times faster than its scenario is already instant
MAX_EPOCH_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z: the last instant a date can show
MAX_OFFSET = 2**53  # ?offset= of GET /__mock/jobs (the largest whole number JSON carries exactly)
MAX_LIMIT = 100_000  # ?limit= of GET /__mock/jobs
