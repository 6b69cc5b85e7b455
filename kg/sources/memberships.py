"""Network memberships CSV → an institution's membership of a named list or network."""

from __future__ import annotations

from pathlib import Path

from kg.sources.common import Context, Triples, check_ident, lit
from kg.sources.tables import rows
from kg.vocab import DCTERMS, RDF, YB, document_iri, institution_iri, sub_iri

REQUIRED = {"institution_id", "network", "role"}
COLUMNS = REQUIRED | {"status", "document"}


def matches(header: list[str]) -> bool:
    return set(header) >= REQUIRED


def read(path: Path, ctx: Context) -> Triples:
    for line, row in rows(path, REQUIRED, COLUMNS):
        ident = check_ident(row["institution_id"], path, line, "institution id")
        network = check_ident(row["network"], path, line, "network")
        node = institution_iri(ident)
        membership = sub_iri(node, "membership", network)
        yield node, YB.membership, membership
        yield membership, RDF.type, YB.NetworkMembership
        yield membership, YB.network, lit(network)
        if row.get("role"):
            yield membership, YB.role, lit(row["role"], "zh")
        if row.get("status"):
            yield membership, YB.status, lit(row["status"])
        if row.get("document"):
            doc = check_ident(row["document"], path, line, "document id")
            yield membership, DCTERMS.source, document_iri(doc)
