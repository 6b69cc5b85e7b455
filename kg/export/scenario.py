"""Export stage, step 1 for ``--scenario``: the explanation subgraph of a which-rule answer.

The rules the answer cites (applied and overridden), their sources and documents, the
parameters they decide, and a node for the scenario itself linked to the regions and the
institution it names.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyoxigraph as ox

from kg.errors import KgError
from kg.export.select import Selection


def select(store: ox.Store, flags: Mapping[str, str | None]) -> Selection:
    """The explanation subgraph of the which-rule answer for the scenario the flags give."""
    try:
        from kg import resolve  # noqa: F401
    except ImportError:
        raise KgError(
            "--scenario needs the which-rule engine (kg.resolve), which is not available in "
            "this version / 此版本尚无适用规则引擎（kg.resolve），无法导出情景解释子图"
        ) from None
    raise KgError("--scenario: the which-rule engine has no which_rule() yet")
