"""yibao-kg: a knowledge graph of China's medical insurance rules for cross-region care.

Pipeline: ``ontology/`` → :mod:`kg.build` (sources → persistent Oxigraph store) →
:mod:`kg.validate` → ``queries/*.rq`` (:mod:`kg.query`) → :mod:`kg.resolve` /
:mod:`kg.reimburse` → :mod:`kg.export`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("yibao-kg")
except PackageNotFoundError:  # running from a checkout without installation
    __version__ = "0.0.0+checkout"

__all__ = ["__version__"]
