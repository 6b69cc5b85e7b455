"""A synthetic national data set in the project's own source formats, deterministic by seed.

Pipeline stage: input to ``yibao build`` (``yibao build --data OUT/``) for scale tests and
benchmarks. It uses the real regions shipped with the package and adds, per pooling region:
institutions (levels, primary-level share, designation and networked services in realistic
proportions), city rules overriding the national defaults, filing records; per province:
catalog additions. Some records are invalid on purpose; ``manifest.json`` says how many of
each kind, so validation can be checked against a known count.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kg import resources
from kg.errors import InputError
from kg.sources.institutions import COLUMN_ORDER as INSTITUTION_COLUMNS

# Generated rows carry a region code (no address or coordinates to place them by) and one name.
INSTITUTION_HEADER = [
    c
    for c in INSTITUTION_COLUMNS
    if c not in ("other_names", "province", "address", "longitude", "latitude")
]
FILING_HEADER = [
    "id",
    "insured_region",
    "treatment_region",
    "filing_type",
    "scheme",
    "service",
    "valid_from",
    "valid_until",
    "institutions",
    "materials",
    "channel",
]
ITEM_HEADER = ["number", "name", "dosage_form", "category", "part", "classification_code"]

# Shares of levels among networked medical institutions (tertiary hospitals are few; most
# networked institutions are primary-level clinics and township/community health centres).
LEVELS = [("3", 0.02), ("2", 0.07), ("1", 0.21), ("unrated", 0.70)]
TYPES_BY_LEVEL = {
    "3": [("general", 0.6), ("specialty", 0.25), ("tcm", 0.15)],
    "2": [("general", 0.6), ("specialty", 0.2), ("tcm", 0.2)],
    "1": [("general", 0.5), ("primary", 0.4), ("tcm", 0.1)],
    "unrated": [("primary", 0.85), ("general", 0.1), ("tcm", 0.05)],
}
SUFFIX_BY_TYPE = {
    "general": "人民医院",
    "specialty": "专科医院",
    "tcm": "中医医院",
    "primary": "社区卫生服务中心",
}
LONG_TERM = ["retiree-relocated", "long-term-resident", "stationed-worker"]
TEMPORARY = ["referral", "emergency", "other-temporary"]
# Materials every filing type may need (R16); a valid synthetic filing provides all of them.
ALL_MATERIALS = [
    "identity",
    "filing-form",
    "household-register",
    "residence-proof",
    "employment-proof",
    "referral-certificate",
    "personal-commitment",
]
PLANTED_KINDS = [
    "filing-too-many-institutions",
    "filing-too-few-primary-level",
    "filing-temporary-validity-too-short",
    "filing-missing-material",
    "networked-service-outside-designation",
]
START = dt.date(2025, 1, 1)
# Filings start after the national materials rules take effect (2025-03-28 in
# kg/data/rules/national.yaml), so that a planted missing material is checked by one.
FILING_START = dt.date(2025, 4, 1)


@dataclass
class Region:
    code: str
    name: str
    province: str
    counties: list[str] = field(default_factory=list)


@dataclass
class Plan:
    institutions: int
    regions: int
    seed: int
    filings: int
    planted_share: float = 0.02


def read_regions() -> list[Region]:
    """Pooling regions of the shipped regions table with their counties."""
    path = resources.data_dir() / "regions" / "regions.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    by_code = {r["code"]: r for r in rows}

    def province_of(code: str) -> str:
        cur = by_code[code]
        while cur["level"] != "province" and cur["parent"]:
            cur = by_code[cur["parent"]]
        return cur["code"]

    pools = {
        r["code"]: Region(r["code"], r["name_zh"], province_of(r["code"]))
        for r in rows
        if r["pooling"] == "yes" and r["level"] != "provincial-pool"
    }
    for r in rows:
        if r["level"] != "county":
            continue
        cur = r
        while cur["code"] not in pools and cur["parent"]:
            cur = by_code[cur["parent"]]
        if cur["code"] in pools:
            pools[cur["code"]].counties.append(r["code"])
    for pool in pools.values():
        if not pool.counties:
            pool.counties.append(pool.code)
    return sorted(pools.values(), key=lambda p: p.code)


def regions_with_rules() -> set[str]:
    """Pooling regions the shipped rules already govern (left out, so no rule is doubled)."""
    from kg.sources.yamlio import load_yaml

    codes: set[str] = set()
    for path in sorted((resources.data_dir() / "rules").glob("*.yaml")):
        data = load_yaml(path) or {}
        defaults = data.get("defaults") or {}
        if defaults.get("insured_region"):
            codes.add(str(defaults["insured_region"]))
        for section in ("rules", "examples", "facts"):
            for item in data.get(section) or []:
                if item.get("insured_region"):
                    codes.add(str(item["insured_region"]))
    return codes


def _pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _interval(start: dt.date, end: dt.date | None) -> str:
    return f"{start.isoformat()}/{end.isoformat() if end else ''}"


def generate(out: Path, plan: Plan) -> dict[str, Any]:
    """Write the data set into ``out`` (created; must be empty) and return the manifest."""
    if plan.institutions < 1 or plan.regions < 2:
        raise InputError(None, None, "need at least 1 institution and 2 regions")
    if out.exists() and any(out.iterdir()):
        raise InputError(out, None, "output directory is not empty")
    rng = random.Random(plan.seed)
    taken = regions_with_rules()
    all_regions = [r for r in read_regions() if r.code not in taken]
    if plan.regions > len(all_regions):
        raise InputError(
            None,
            None,
            f"--regions {plan.regions}: only {len(all_regions)} pooling "
            "regions exist in the shipped regions table",
        )
    regions = sorted(rng.sample(all_regions, plan.regions), key=lambda r: r.code)
    weights = [rng.uniform(0.3, 1.7) for _ in regions]
    total = sum(weights)
    counts = [int(plan.institutions * w / total) for w in weights]
    for i in range(plan.institutions - sum(counts)):
        counts[i % len(counts)] += 1
    planted: Counter[str] = Counter()
    for sub in ("institutions", "rules", "catalogs", "filings"):
        (out / sub).mkdir(parents=True, exist_ok=True)

    limits: dict[str, tuple[int, int]] = {}
    by_region: dict[str, list[tuple[str, str, bool]]] = {}  # code → [(id, county, primary)]
    for region, n in zip(regions, counts, strict=True):
        by_region[region.code] = _institutions(out, rng, region, n, plan, planted)
        limits[region.code] = _rules(out, rng, region)
    _documents(out)
    _catalogs(out, rng, sorted({r.province for r in regions}))
    filings = _filings(out, rng, regions, by_region, limits, plan, planted)
    manifest = {
        "seed": plan.seed,
        "institutions": plan.institutions,
        "regions": [r.code for r in regions],
        "filings": filings,
        "planted": {k: planted.get(k, 0) for k in PLANTED_KINDS},
        "planted_total": sum(planted.values()),
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return manifest


def _institutions(
    out: Path, rng: random.Random, region: Region, n: int, plan: Plan, planted: Counter[str]
) -> list[tuple[str, str, bool]]:
    made: list[tuple[str, str, bool]] = []
    seq: Counter[str] = Counter()
    path = out / "institutions" / f"{region.code}.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(INSTITUTION_HEADER)
        for i in range(n):
            county = rng.choice(region.counties)
            seq[county] += 1
            level = _pick(rng, LEVELS)
            kind = _pick(rng, TYPES_BY_LEVEL[level])
            primary = kind == "primary"
            ident = f"g-{region.code}-{i + 1:06d}"
            name = f"{region.name}第{i + 1}{SUFFIX_BY_TYPE[kind]}"
            designated = dt.date(rng.randint(2012, 2023), rng.randint(1, 12), 1)
            until = None if rng.random() < 0.9 else dt.date(2030, 12, 31)
            services = {"inpatient": "", "general": "", "chronic": ""}
            start = max(designated, dt.date(2017, 1, 1)) + dt.timedelta(days=rng.randint(0, 900))
            if level in {"2", "3"} or (level == "1" and rng.random() < 0.3):
                services["inpatient"] = _interval(start, until)
            if rng.random() < 0.7:
                services["general"] = _interval(max(start, dt.date(2021, 9, 1)), until)
            if level in {"2", "3"} and rng.random() < 0.5:
                services["chronic"] = _interval(max(start, dt.date(2021, 9, 1)), until)
            if services["inpatient"] and rng.random() < plan.planted_share:
                services["inpatient"] = _interval(designated - dt.timedelta(days=365), until)
                planted["networked-service-outside-designation"] += 1
            grade = rng.choice(["甲", "乙"]) if level in {"2", "3"} else ""
            w.writerow(
                [
                    ident,
                    name,
                    f"H{county}{seq[county]:05d}",
                    county,
                    level,
                    grade,
                    kind,
                    "public" if rng.random() < 0.8 else "private",
                    "yes" if primary else "no",
                    _interval(designated, until),
                    services["inpatient"],
                    services["general"],
                    services["chronic"],
                    "synthetic",
                ]
            )
            made.append((ident, county, primary))
    return made


def _rules(out: Path, rng: random.Random, region: Region) -> tuple[int, int]:
    """City rules of one region; returns its (institution limit, primary-level minimum)."""
    doc = "synthetic-policy"
    r3 = round(rng.uniform(0.80, 0.88), 2)
    ratios = {"3": r3, "2": round(min(r3 + 0.05, 0.95), 2), "1": round(min(r3 + 0.10, 0.95), 2)}
    deductibles = {
        "1": rng.choice([100, 200, 300]),
        "2": rng.choice([400, 500, 600]),
        "3": rng.choice([800, 1000, 1200]),
    }
    limit, primary_min = rng.randint(2, 5), rng.choice([0, 1])
    src = [
        {
            "document": doc,
            "article": region.code,
            "quote": "合成数据，仅供规模测试。",
            "confidence": "U",
        }
    ]

    def rule(ident: str, kind: str, value: Any, zh: str, en: str, **when: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": f"g-{region.code}-{ident}",
            "kind": kind,
            "value": value,
            "label": {"zh": f"{region.name}{zh}", "en": f"{region.code} {en}"},
        }
        if when:
            entry["when"] = when
        return entry

    rules = []
    for level in ("1", "2", "3"):
        rules.append(
            rule(
                f"ratio-inpatient-{level}",
                "ratio",
                ratios[level],
                f"{level}级医院住院支付比例",
                f"inpatient ratio, level {level}",
                service="inpatient",
                hospital_level=level,
            )
        )
        rules.append(
            rule(
                f"deductible-inpatient-{level}",
                "deductible",
                deductibles[level],
                f"{level}级医院住院起付标准",
                f"inpatient deductible, level {level}",
                service="inpatient",
                hospital_level=level,
            )
        )
    rules += [
        rule(
            "ratio-go",
            "ratio",
            round(rng.uniform(0.5, 0.7), 2),
            "普通门诊支付比例",
            "general outpatient ratio",
            service="general-outpatient",
        ),
        rule(
            "ratio-chronic",
            "ratio",
            round(rng.uniform(0.6, 0.8), 2),
            "门诊慢特病支付比例",
            "chronic outpatient ratio",
            service="chronic-special-outpatient",
        ),
        rule(
            "cap",
            "annual-cap",
            rng.choice([300000, 400000, 500000, 600000]),
            "年度最高支付限额",
            "annual cap",
        ),
        rule(
            "reduction-other",
            "ratio-reduction",
            rng.choice([10, 15, 20]),
            "其他临时外出就医人员跨省支付比例降幅",
            "reduction for other temporary patients",
            scope="cross-province",
            filing_type="other-temporary",
        ),
        rule(
            "reduction-referral",
            "ratio-reduction",
            rng.choice([0, 5, 10]),
            "转诊和急诊人员跨省支付比例降幅",
            "reduction for referred and emergency patients",
            scope="cross-province",
            filing_type=["referral", "emergency"],
        ),
        rule(
            "b-prepay",
            "category-b-prepay",
            round(rng.uniform(0.05, 0.15), 2),
            "乙类先行自付比例",
            "category B prepayment share",
        ),
        rule(
            "go-selection",
            "institution-selection",
            True,
            "长期备案人员普通门诊需选定定点机构",
            "long-term filers choose general-outpatient institutions",
            filing_type="long-term",
            service="general-outpatient",
        ),
        rule(
            "go-limit",
            "institution-limit",
            limit,
            "长期备案人员普通门诊选点上限",
            "general-outpatient institution limit",
            filing_type="long-term",
            service="general-outpatient",
        ),
        rule(
            "go-primary",
            "primary-level-min",
            primary_min,
            "长期备案人员普通门诊至少选基层机构数",
            "minimum primary-level institutions",
            filing_type="long-term",
            service="general-outpatient",
        ),
    ]
    data = {
        "defaults": {
            "insured_region": region.code,
            "valid": {"from": START.isoformat()},
            "sources": src,
        },
        "rules": rules,
    }
    (out / "rules" / f"{region.code}.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return limit, primary_min


def _documents(out: Path) -> None:
    docs = {
        "documents": {
            "synthetic-policy": {
                "title": {
                    "zh": "合成的统筹区医保政策（规模测试用）",
                    "en": "Synthetic pooling-region policy (scale tests)",
                },
                "issuer": {"zh": "yibao-kg 数据生成器", "en": "yibao-kg data generator"},
                "issued": "2024-12-01",
            }
        }
    }
    (out / "rules" / "documents.yaml").write_text(
        yaml.safe_dump(docs, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def _catalogs(out: Path, rng: random.Random, provinces: list[str]) -> None:
    for province in provinces:
        ident = f"g-{province}-additions"
        header = {
            "catalog": {
                "id": ident,
                "kind": "drug",
                "region": province,
                "edition": "2025",
                "label": {
                    "zh": f"{province}省级增补药品（合成）",
                    "en": f"{province} additions (synthetic)",
                },
                "valid": {"from": START.isoformat(), "until": "2025-12-31"},
                "items": f"{ident}.csv",
                "sources": [
                    {
                        "document": "synthetic-policy",
                        "article": province,
                        "quote": "合成数据，仅供规模测试。",
                        "confidence": "U",
                    }
                ],
            }
        }
        (out / "catalogs" / f"{ident}.yaml").write_text(
            yaml.safe_dump(header, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        with (out / "catalogs" / f"{ident}.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(ITEM_HEADER)
            for i in range(rng.randint(50, 200)):
                w.writerow(
                    [
                        f"P{province[:2]}-{i + 1}",
                        f"合成增补药品{province[:2]}-{i + 1}",
                        rng.choice(["口服常释剂型", "注射剂", "颗粒剂"]),
                        "乙",
                        "省级增补",
                        "XZ99",
                    ]
                )


def _filings(
    out: Path,
    rng: random.Random,
    regions: list[Region],
    by_region: dict[str, list[tuple[str, str, bool]]],
    limits: dict[str, tuple[int, int]],
    plan: Plan,
    planted: Counter[str],
) -> int:
    made = 0
    per_region = max(plan.filings // len(regions), 1)
    for region in regions:
        path = out / "filings" / f"{region.code}.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(FILING_HEADER)
            for i in range(per_region):
                target = rng.choice([r for r in regions if r.code != region.code])
                pool = by_region[target.code]
                row = _filing(rng, region, target, pool, limits[region.code], plan, planted)
                w.writerow([f"f-{region.code}-{i + 1:06d}", *row])
                made += 1
    return made


def _filing(
    rng: random.Random,
    region: Region,
    target: Region,
    pool: list[tuple[str, str, bool]],
    limit: tuple[int, int],
    plan: Plan,
    planted: Counter[str],
) -> list[str]:
    ftype = rng.choice(LONG_TERM + TEMPORARY)
    start = FILING_START + dt.timedelta(days=rng.randint(0, 180))
    # the national validity and materials rules bind cross-province care only: a violation
    # of theirs is planted (and counted) only in a cross-province filing
    cross_province = target.province != region.province
    materials = list(ALL_MATERIALS)
    chosen: list[str] = []
    service = "inpatient"
    end: dt.date | None = (
        None if ftype in LONG_TERM else start + dt.timedelta(days=rng.randint(220, 360))
    )
    max_n, primary_min = limit
    plant = rng.random() < plan.planted_share * 4
    primaries = [i for i, _, p in pool if p]
    others = [i for i, _, p in pool if not p]
    if ftype in LONG_TERM and len(primaries) > max_n and len(others) > max_n:
        service = "general-outpatient"
        n = rng.randint(max(primary_min, 1), max_n)
        chosen = rng.sample(primaries, max(primary_min, 1)) + rng.sample(
            others, n - max(primary_min, 1)
        )
        if plant:
            kind = rng.choice(
                [
                    "filing-too-many-institutions",
                    "filing-too-few-primary-level",
                    "filing-missing-material",
                ]
            )
            if kind == "filing-too-few-primary-level" and primary_min == 0:
                kind = "filing-missing-material"
            if kind == "filing-missing-material" and not cross_province:
                kind = "filing-too-many-institutions"
            if kind == "filing-too-many-institutions":
                extra = [i for i in primaries if i not in chosen][: max_n + 1 - len(chosen)]
                chosen += extra
            elif kind == "filing-too-few-primary-level":
                chosen = rng.sample(others, min(max_n, len(others)))
            else:
                materials.remove("identity")
            planted[kind] += 1
    elif plant and ftype in ("referral", "other-temporary") and cross_province:
        end = start + dt.timedelta(days=90)
        planted["filing-temporary-validity-too-short"] += 1
    return [
        region.code,
        target.code,
        ftype,
        rng.choice(["employee", "resident"]),
        service,
        start.isoformat(),
        end.isoformat() if end else "",
        ";".join(chosen),
        ";".join(materials),
        rng.choice(["nhsa-app", "filing-mini-program", "counter"]),
    ]
