"""Job statuses: those the ArcGIS job framework uses, and which of them end a job."""

from __future__ import annotations

STATUSES = ("SUBMITTED", "EXECUTING", "PROCESSING", "CANCELLING", "CANCELLED", "FAILED", "COMPLETED")
TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
