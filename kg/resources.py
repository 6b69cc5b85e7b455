"""Locate the files shipped with the package: ontology, queries, default data.

Installed, ``ontology/`` and ``queries/`` live inside the ``kg`` package (setuptools
package-dir mapping); in a checkout they sit next to it. Every other module asks here.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the {name}/ folder next to {_PACKAGE}")


@cache
def ontology_dir() -> Path:
    """The folder of the OWL ontology, SKOS vocabularies (``vocab/``) and shapes (``shapes/``)."""
    return _find("ontology")


@cache
def queries_dir() -> Path:
    """The folder of named SPARQL queries (``*.rq``)."""
    return _find("queries")


def data_dir() -> Path:
    """The default data shipped with the package."""
    return _PACKAGE / "data"


def ontology_files() -> list[Path]:
    """The ontology and vocabulary Turtle files, in a stable order (shapes excluded)."""
    root = ontology_dir()
    return sorted(root.glob("*.ttl")) + sorted((root / "vocab").glob("*.ttl"))


def shapes_files() -> list[Path]:
    """The SHACL shapes files, in a stable order."""
    return sorted((ontology_dir() / "shapes").glob("*.ttl"))
