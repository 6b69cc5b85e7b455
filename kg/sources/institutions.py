"""Institutions CSV → institutions: place, level, designation, networked services."""

from __future__ import annotations

from pathlib import Path

from kg.errors import InputError
from kg.sources.common import (
    Context,
    Triples,
    bool_lit,
    check_code,
    check_ident,
    date_lit,
    decimal_lit,
    lit,
    parse_bool,
    parse_decimal,
    parse_interval,
)
from kg.sources.placement import Gazetteer, Placement
from kg.sources.tables import rows, split
from kg.vocab import DCTERMS, GEO, RDF, RDFS, SKOS, YB, institution_iri, region_iri, sub_iri

REQUIRED = {"id", "name"}
SERVICES = {
    "networked_inpatient": "inpatient",
    "networked_general_outpatient": "general-outpatient",
    "networked_chronic_outpatient": "chronic-special-outpatient",
}
# The columns in their documented order (docs/data-formats.md); writers use it too.
COLUMN_ORDER = (
    "id",
    "name",
    "other_names",
    "code",
    "region_code",
    "province",
    "address",
    "longitude",
    "latitude",
    "level",
    "grade",
    "type",
    "ownership",
    "primary_level",
    "designated",
    *SERVICES,
    "source",
)
COLUMNS = set(COLUMN_ORDER)
_PRECISION = {"county": 3, "prefecture": 2, "province": 1}


def matches(header: list[str]) -> bool:
    return set(header) >= REQUIRED and "level" in header


def read(path: Path, ctx: Context) -> Triples:
    gazetteer: Gazetteer | None = None
    seen_names: dict[str, tuple[int, str | None]] = {}  # name → (line, province) in this file
    seen_ids: dict[str, int] = {}
    for line, row in rows(path, REQUIRED, COLUMNS):
        ident = check_ident(row["id"], path, line, "institution id")
        if ident in seen_ids:
            raise InputError(path, line, f"institution id '{ident}' repeats line {seen_ids[ident]}")
        seen_ids[ident] = line
        name = row["name"]
        if not name:
            raise InputError(path, line, "institution name is empty")
        place: Placement | None = None
        code = row.get("region_code", "")
        if code:
            code = check_code(code, path, line)
            place = Placement(code, "given")
        else:
            if gazetteer is None:
                gazetteer = Gazetteer(ctx.regions)
            place = gazetteer.place(row.get("address", ""), row.get("province"))
            by_name = gazetteer.place(name, row.get("province"))
            if by_name is not None and (
                place is None
                or (
                    _PRECISION[by_name.precision] > _PRECISION[place.precision]
                    and ctx.regions.province_of(by_name.code) == ctx.regions.province_of(place.code)
                )
            ):
                place = by_name
        province = ctx.regions.province_of(place.code) if place else None
        earlier = seen_names.get(name)
        if earlier is not None and (province is None or earlier[1] in (None, province)):
            ctx.report.skip(
                path,
                line,
                f"'{name}' repeats line {earlier[0]} (same name, same or unknown province): merged",
            )
            continue
        if place is None:
            ctx.report.skip(
                path,
                line,
                f"'{name}': no region code, and neither the address "
                f"'{row.get('address', '')}' nor the name places it in a region",
            )
            continue
        seen_names.setdefault(name, (line, province))
        if place.precision == "province":
            ctx.report.note(
                path,
                line,
                f"'{name}' placed in province {place.code} only",
                "placed-in-province-only",
            )
        elif place.precision != "given" and place.code not in ctx.regions:
            raise InputError(path, line, f"region {place.code} is not a known region")
        yield from _triples(ctx, path, line, ident, name, row, place.code)


def _triples(
    ctx: Context, path: Path, line: int, ident: str, name: str, row: dict[str, str], code: str
) -> Triples:
    node = institution_iri(ident)
    yield node, RDF.type, YB.MedicalInstitution
    yield node, DCTERMS.identifier, lit(ident)
    yield node, RDFS.label, lit(name, "zh")
    for other in split(row.get("other_names") or ""):
        yield node, SKOS.altLabel, lit(other, "zh")
    if row.get("code"):
        yield node, YB.institutionCode, lit(row["code"])
    yield node, YB.region, region_iri(code)
    pooling = ctx.regions.pooling_of(code)
    if pooling:
        yield node, YB.poolingRegion, region_iri(pooling)
    province = ctx.regions.province_of(code)
    if province:
        yield node, YB.province, region_iri(province)
    if row.get("address"):
        yield node, YB.address, lit(row["address"], "zh")
    if row.get("longitude") and row.get("latitude"):
        yield node, GEO.long, decimal_lit(parse_decimal(row["longitude"], path, line, "longitude"))
        yield node, GEO.lat, decimal_lit(parse_decimal(row["latitude"], path, line, "latitude"))
    for column, scheme, prop in (
        ("level", "hospital-level", YB.hospitalLevel),
        ("grade", "hospital-grade", YB.hospitalGrade),
        ("type", "institution-type", YB.institutionType),
        ("ownership", "ownership", YB.ownership),
    ):
        if row.get(column):
            yield node, prop, ctx.concept(scheme, row[column], path, line)
    if row.get("primary_level"):
        yield (
            node,
            YB.primaryLevel,
            bool_lit(parse_bool(row["primary_level"], path, line, "primary_level")),
        )
    elif row.get("type") == "primary":
        # the type is the 基层医疗卫生机构 (community health centre, township hospital), so the
        # institution counts as primary-level where primary_level leaves it unsaid
        yield node, YB.primaryLevel, bool_lit(True)
    if row.get("designated"):
        start, end = parse_interval(row["designated"], path, line, "designated")
        period = sub_iri(node, "designation")
        yield node, YB.designation, period
        yield period, RDF.type, YB.Designation
        yield period, YB.validFrom, date_lit(start)
        if end:
            yield period, YB.validUntil, date_lit(end)
    for column, service in SERVICES.items():
        if row.get(column):
            start, end = parse_interval(row[column], path, line, column)
            period = sub_iri(node, "service", service)
            yield node, YB.networkedService, period
            yield period, RDF.type, YB.NetworkedService
            yield period, YB.service, ctx.concept("service", service, path, line)
            yield period, YB.validFrom, date_lit(start)
            if end:
                yield period, YB.validUntil, date_lit(end)
    if row.get("source"):
        yield node, DCTERMS.source, lit(row["source"])
