"""mockjobs: a mock of ArcGIS Mission Server's asynchronous Job resource.

``create_app`` is imported lazily so that ``import mockjobs`` (and the pytest plugin) stays
cheap until an app is actually built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["create_app", "__version__"]

if TYPE_CHECKING:
    from .factory import create_app


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .factory import create_app

        return create_app
    raise AttributeError(f"module 'mockjobs' has no attribute {name!r}")
