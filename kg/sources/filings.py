"""Filing records CSV → filings: insured and treatment region, type, period, choices, materials."""

from __future__ import annotations

from pathlib import Path

from kg.errors import InputError
from kg.sources.common import Context, Triples, check_code, check_ident, date_lit, lit, parse_date
from kg.sources.tables import rows, split
from kg.vocab import DCTERMS, RDF, YB, filing_iri, institution_iri, region_iri

REQUIRED = {"id", "insured_region", "treatment_region", "filing_type", "valid_from"}
COLUMNS = REQUIRED | {"scheme", "service", "valid_until", "institutions", "materials", "channel"}


def matches(header: list[str]) -> bool:
    return {"id", "insured_region", "treatment_region", "filing_type"} <= set(header)


def read(path: Path, ctx: Context) -> Triples:
    seen: dict[str, int] = {}
    for line, row in rows(path, REQUIRED, COLUMNS):
        ident = check_ident(row["id"], path, line, "filing id")
        if ident in seen:
            raise InputError(path, line, f"filing id '{ident}' repeats line {seen[ident]}")
        seen[ident] = line
        node = filing_iri(ident)
        yield node, RDF.type, YB.Filing
        yield node, DCTERMS.identifier, lit(ident)
        yield node, YB.insuredRegion, region_iri(check_code(row["insured_region"], path, line))
        yield node, YB.treatmentRegion, region_iri(check_code(row["treatment_region"], path, line))
        yield node, YB.filingType, ctx.concept("filing-type", row["filing_type"], path, line)
        if row.get("scheme"):
            yield node, YB.scheme, ctx.concept("scheme", row["scheme"], path, line)
        if row.get("service"):
            yield node, YB.service, ctx.concept("service", row["service"], path, line)
        start = parse_date(row["valid_from"], path, line, "valid_from")
        yield node, YB.validFrom, date_lit(start)
        if row.get("valid_until"):
            end = parse_date(row["valid_until"], path, line, "valid_until")
            if end < start:
                raise InputError(path, line, "valid_until is before valid_from")
            yield node, YB.validUntil, date_lit(end)
        for inst in split(row.get("institutions", "")):
            inst = check_ident(inst, path, line, "institution id")
            yield node, YB.chosenInstitution, institution_iri(inst)
        for material in split(row.get("materials", "")):
            yield node, YB.materialProvided, ctx.concept("material", material, path, line)
        if row.get("channel"):
            yield node, YB.filingChannel, ctx.concept("filing-channel", row["channel"], path, line)
