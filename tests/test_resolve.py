"""kg.resolve: generic rule resolution, derived answers, explanations, `yibao which-rule`."""

from __future__ import annotations

import ast
import doctest
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pyoxigraph as ox
import pytest
from test_query import build_fixture_store

from kg import lookup, query, resolve, store
from kg.errors import KgError, LookupFailed
from kg.explain import render_text
from kg.resolve import Scenario, resolve_kind, resolve_scenario, which_rule
from kg.vocab import load_vocabulary

SCHEMA = Path(resolve.__file__).parent / "schemas" / "answer.schema.json"
YIBAO = [sys.executable, "-m", "kg"]


@pytest.fixture(scope="session")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> ox.Store:
    """The default data plus the test rules, hospitals and catalogs of tests/fixtures/query."""
    return store.open_store(build_fixture_store(tmp_path_factory))


def answer(db: ox.Store, **values: object) -> resolve.Answer:
    values.setdefault("date", "2025-06-01")
    return which_rule(db, Scenario.from_mapping(values))


def applied(ans: resolve.Answer, key: str) -> list[str | None]:
    return [e.rule for e in ans.deciding(key)]


def verdict(ans: resolve.Answer, key: str, rule: str) -> resolve.Explanation:
    return next(e for e in ans.explanations if e.key == key and e.rule == rule)


# ------------------------------------------------------------------ context


@pytest.mark.parametrize(
    ("insured", "treated", "scope"),
    [
        ("佛山", "禅城区", "local"),
        ("佛山", "广州", "intra-province"),
        ("佛山", "北京", "cross-province"),
        ("北京", "110105", "local"),  # a municipality is one pooling region
        ("武汉", "仙桃", "intra-province"),  # a province-administered county-level pool
        ("重庆", "巫山县", "local"),  # counties of a municipality: the statistical 县 (500200)
        ("石柱", "500101", "local"),  # is no pooling region of its own
        ("江西省本级", "南昌市", "intra-province"),  # a provincial pool inside its province
        ("369900", "北京", "cross-province"),
    ],
)
def test_scope_from_the_two_pooling_regions(
    default_store: ox.Store, insured: str, treated: str, scope: str
) -> None:
    ctx = resolve_scenario(
        default_store, Scenario(insured_region=insured, treatment_region=treated)
    )
    assert ctx.scope == scope


def test_condition_values_match_broader_concepts(default_store: ox.Store) -> None:
    ctx = resolve_scenario(
        default_store,
        Scenario(insured_region="佛山", treatment_region="北京", filing_type="referral"),
    )
    assert ctx.values["scope"] == "cross-province"
    notations = [ctx_notation(i) for i in ctx.ancestors["filing_type"]]
    assert notations == ["referral", "temporary"]
    assert [ctx_notation(i) for i in ctx.ancestors["scope"]] == ["cross-province", "non-local"]
    assert [e.code for e in ctx.chain] == ["440600", "440000", "100000"]


def ctx_notation(iri: str) -> str | None:
    return resolve.load_vocabulary().notation(iri)


def test_a_province_is_no_insured_pooling_region(default_store: ox.Store) -> None:
    with pytest.raises(KgError, match="no single pooling region"):
        resolve_scenario(default_store, Scenario(insured_region="广东", treatment_region="北京"))


def test_unknown_and_ambiguous_names_list_close_matches(default_store: ox.Store) -> None:
    with pytest.raises(LookupFailed) as err:
        resolve_scenario(default_store, Scenario(insured_region="佛三", treatment_region="北京"))
    assert "440600 佛山" in err.value.candidates
    with pytest.raises(LookupFailed) as err:
        resolve_scenario(default_store, Scenario(insured_region="佛山", treatment_region="朝阳区"))
    assert err.value.ambiguous and "110105 朝阳区" in err.value.candidates
    with pytest.raises(LookupFailed) as err:
        resolve_scenario(
            default_store, Scenario(insured_region="北京", treatment_region="chaoyang district")
        )
    assert err.value.ambiguous and "110105 朝阳区" in err.value.candidates
    with pytest.raises(LookupFailed):  # the statistical grouping 县 of 重庆 is no region
        resolve_scenario(default_store, Scenario(insured_region="500200", treatment_region="北京"))
    with pytest.raises(LookupFailed) as err:
        resolve_scenario(
            default_store,
            Scenario(insured_region="佛山", treatment_region="北京", filing_type="refferal"),
        )
    assert "referral" in err.value.candidates
    with pytest.raises(LookupFailed) as err:
        resolve_scenario(default_store, Scenario(insured_region="佛山", hospital="北京协和医"))
    assert any("协和" in c for c in err.value.candidates)
    # with a treatment region, the suggestions are that region's institutions
    with pytest.raises(LookupFailed) as err:
        resolve_scenario(
            default_store,
            Scenario(
                insured_region="北京", treatment_region="佛山", hospital="佛山市第一人民医院X"
            ),
        )
    assert err.value.candidates[0].endswith(" 佛山市第一人民医院")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("西安", "610100"),
        ("南昌", "360100"),
        ("新乡市", "410700"),
        ("朝阳", "211300"),
        ("Changzhi", "140400"),  # place-name readings: 长 chang, not zhang
        ("changzhi", "140400"),  # English names in any case
        ("Hohhot", "150100"),  # English names in established use
        ("URUMQI", "650100"),
    ],
)
def test_a_short_name_shared_across_levels_is_the_widest_division(
    default_store: ox.Store, name: str, code: str
) -> None:
    ctx = resolve_scenario(default_store, Scenario(insured_region="佛山", treatment_region=name))
    assert ctx.treatment.code == code


@pytest.mark.parametrize(
    ("name", "ident"),
    [
        ("北京协和医院", "3a-0017"),  # listed as 北京协和医院（协和医院）; named in seed 004
        ("仙桃市肿瘤医院", "seed-014"),  # seed 001: merged into 仙桃市第三人民医院
        ("中山大学附属第一医院", "3a-1067"),  # seed 004
        ("301医院", "3a-0052"),  # 中国人民解放军总医院（解放军301医院、三零一医院、301医院）
    ],
)
def test_a_hospital_is_found_by_its_name_or_a_short_name(
    default_store: ox.Store, name: str, ident: str
) -> None:
    ctx = resolve_scenario(default_store, Scenario(insured_region="佛山", hospital=name))
    assert ctx.hospital is not None and ctx.hospital.id == ident


@pytest.mark.parametrize("name", ["协和医院", "中山医院"])
def test_a_short_name_other_hospitals_end_with_is_ambiguous(
    default_store: ox.Store, name: str
) -> None:
    """北京协和医院 lists 协和医院 as its short name, but 武汉协和医院 is called so too."""
    with pytest.raises(LookupFailed) as err:
        resolve_scenario(default_store, Scenario(insured_region="佛山", hospital=name))
    assert err.value.ambiguous and len(err.value.candidates) >= 3
    assert all(c.endswith(name) for c in err.value.candidates)


def test_ambiguous_hospital_and_hospital_outside_the_treatment_region(
    fixture_store: ox.Store,
) -> None:
    with pytest.raises(LookupFailed) as err:
        resolve_scenario(fixture_store, Scenario(insured_region="郑州", hospital="测试同名医院"))
    assert err.value.ambiguous and len(err.value.candidates) == 2
    with pytest.raises(KgError, match="not in the treatment region"):
        resolve_scenario(
            fixture_store,
            Scenario(insured_region="郑州", treatment_region="上海", hospital="fx-h1"),
        )
    ctx = resolve_scenario(fixture_store, Scenario(insured_region="郑州", hospital="H11010500001"))
    assert ctx.treatment.code == "110105" and ctx.values["hospital_level"] == "3"
    with pytest.raises(KgError, match="is level 3"):
        resolve_scenario(
            fixture_store, Scenario(insured_region="郑州", hospital="fx-h1", hospital_level="2")
        )


def test_the_public_api_is_pinned() -> None:
    """The claim calculator and the exporter build on these names."""
    assert sorted(resolve.__all__) == [
        "Answer",
        "Candidate",
        "Context",
        "Explanation",
        "Resolution",
        "RuleRecord",
        "Scenario",
        "answer_keys",
        "json_value",
        "resolve_kind",
        "resolve_scenario",
        "which_rule",
    ]
    explanation_fields = [f.name for f in resolve.fields(resolve.Explanation)]
    assert explanation_fields == [
        "key", "rule", "iri", "kind", "value", "applied", "overridden_by", "why", "source",
        "sources",
    ]  # fmt: skip


def test_unknown_scenario_keys_are_errors() -> None:
    with pytest.raises(KgError, match="unknown scenario key"):
        Scenario.from_mapping({"insured_region": "佛山", "treated": "北京"})
    extra = Scenario.from_mapping(
        {"insured_region": "佛山", "treatment_region": "北京", "admission": "first"}
    )
    assert extra.conditions == {"admission": "first"}


R19_CODES = ("employee", "retiree-relocated", "chronic-special-outpatient")


@pytest.mark.parametrize(
    "words",
    [
        R19_CODES,
        ("职工", "异地安置退休人员", "门诊慢特病"),  # prefLabel@zh and altLabel@zh
        ("Employee basic medical insurance", "retiree relocated", "门特"),  # @en, any case
    ],
)
def test_vocabulary_values_by_notation_or_label(words: tuple[str, str, str]) -> None:
    scheme, filing, service = words
    given = {"insured_region": "廊坊", "scheme": scheme, "filing_type": filing, "service": service}
    found = Scenario.from_mapping({**given, "admission": "年度内首次住院"})
    assert (found.scheme, found.filing_type, found.service) == R19_CODES
    assert found.conditions == {"admission": "first"}


def test_doctests_of_the_vocabulary_and_the_hints() -> None:
    from kg import errors, vocab

    for module in (vocab, errors):
        assert doctest.testmod(module).failed == 0


def test_every_label_names_one_concept_of_its_scheme() -> None:
    # else Vocabulary.find would refuse the label as ambiguous
    vocab = load_vocabulary()
    shared = {key: iris for key, iris in vocab.by_label.items() if len(iris) > 1}
    assert not shared


def test_a_word_of_no_concept_is_refused_with_the_codes(default_store: ox.Store) -> None:
    scenario = Scenario.from_mapping({"insured_region": "廊坊", "treatment_region": "北京",
                                      "service": "门诊慢特"})  # fmt: skip
    assert scenario.service == "门诊慢特"  # kept as given for the lookup to refuse
    with pytest.raises(LookupFailed) as error:
        resolve_scenario(default_store, scenario)
    assert error.value.candidates[0] == "chronic-special-outpatient"


# ------------------------------------------------------------------ precedence (fixture rules)

ZHENGZHOU = {"insured_region": "郑州", "treatment_region": "北京"}


def test_city_over_province_over_country(fixture_store: ox.Store) -> None:
    ans = answer(fixture_store, **ZHENGZHOU, filing_type="referral")
    assert ans.values["filing_validity"] == 12
    assert applied(ans, "filing_validity") == ["fx-city-validity"]
    for loser in ("fx-province-validity", "nat-filing-validity-temporary"):
        v = verdict(ans, "filing_validity", loser)
        assert not v.applied and v.overridden_by == "fx-city-validity"
        assert "less specific insured region" in v.why["en"]


def test_filing_type_over_its_class(fixture_store: ox.Store) -> None:
    referral = answer(
        fixture_store, **ZHENGZHOU, filing_type="referral", service="general-outpatient"
    )
    assert referral.values["institution_limit"] == 1
    assert (
        "filing-type condition is less specific"
        in verdict(referral, "institution_limit", "fx-class").why["en"]
    )
    emergency = answer(
        fixture_store, **ZHENGZHOU, filing_type="emergency", service="general-outpatient"
    )
    assert emergency.values["institution_limit"] == 2  # only the class rule admits emergency


def test_more_conditions_win(fixture_store: ox.Store) -> None:
    employee = answer(fixture_store, **ZHENGZHOU, scheme="employee", service="general-outpatient")
    assert employee.values["primary_level_min"] == 1
    assert "fewer conditions" in verdict(employee, "primary_level_min", "fx-few").why["en"]
    resident = answer(fixture_store, **ZHENGZHOU, scheme="resident", service="general-outpatient")
    assert resident.values["primary_level_min"] == 0


def test_declared_override_then_latest_start(fixture_store: ox.Store) -> None:
    ans = answer(fixture_store, **ZHENGZHOU, filing_type="referral")
    assert ans.values["treated_as_filed"] is False
    assert (
        "declares that it overrides"
        in verdict(ans, "treated_as_filed", "fx-override-loser").why["en"]
    )
    later = answer(fixture_store, **ZHENGZHOU, filing_type="other-temporary", date="2024-07-01")
    assert later.values["ratio_reduction_pp"] == 15
    assert "older" in verdict(later, "ratio_reduction_pp", "fx-old").why["en"]
    earlier = answer(fixture_store, **ZHENGZHOU, filing_type="other-temporary", date="2024-05-01")
    assert earlier.values["ratio_reduction_pp"] == 10


def test_a_conflict_is_reported_never_guessed(fixture_store: ox.Store) -> None:
    ans = answer(fixture_store, **ZHENGZHOU, filing_type="emergency")
    assert ans.values["reimbursable"] is None
    reason = ans.reasons["reimbursable"]["en"]
    assert "fx-conflict-a" in reason and "fx-conflict-b" in reason
    assert not applied(ans, "reimbursable")


def test_equal_values_at_equal_rank_are_fine(fixture_store: ox.Store) -> None:
    ans = answer(fixture_store, **ZHENGZHOU, filing_type="referral")
    assert ans.values["dual_entitlement"] is True
    assert sorted(applied(ans, "dual_entitlement")) == ["fx-tie-a", "fx-tie-b"]


def test_treatment_region_condition(fixture_store: ox.Store) -> None:
    shanghai = answer(
        fixture_store,
        insured_region="郑州",
        treatment_region="上海",
        filing_type="long-term-resident",
    )
    assert shanghai.values["direct_settlement"] is False
    assert applied(shanghai, "direct_settlement") == ["fx-treated-shanghai"]
    beijing = answer(fixture_store, **ZHENGZHOU, filing_type="long-term-resident")
    assert beijing.values["direct_settlement"] is True


def test_a_condition_the_scenario_does_not_give_does_not_apply(default_store: ox.Store) -> None:
    ctx = resolve_scenario(
        default_store,
        Scenario(
            insured_region="呼和浩特",
            treatment_region="北京",
            filing_type="referral",
            service="inpatient",
            date=resolve._date("2025-12-01"),
        ),
    )
    res = resolve_kind(default_store, ctx, "deductible")
    assert res.value is None and res.winner is None
    assert {r.id for r, keys in res.not_applicable if keys == ["admission"]} >= {
        "neimenggu-cp-deductible-first-admission",
        "neimenggu-cp-deductible-later-admission",
    }
    assert "need admission" in res.reason["en"]


def test_validity_is_inclusive_at_both_ends(default_store: ox.Store) -> None:
    def selection(date: str) -> object:
        ans = answer(
            default_store,
            insured_region="郑州",
            treatment_region="上海",
            filing_type="referral",
            service="inpatient",
            date=date,
        )
        return ans.resolutions["institution-selection"].value

    assert selection("2022-06-29") is True  # last day of the 2016-era rule
    assert selection("2022-06-30") is False  # first day of the 2022 notice


# ------------------------------------------------------------------ derived answers


def test_networked_service_of_the_hospital(fixture_store: ox.Store) -> None:
    base = {"insured_region": "郑州", "filing_type": "other-temporary", "date": "2025-03-01"}
    yes = answer(fixture_store, **base, service="inpatient", hospital="fx-h1")
    assert yes.values["direct_settlement"] is True
    fact = next(e for e in yes.explanations if e.kind == "networked-service")
    assert fact.applied and fact.rule is None and fact.iri.endswith("/fx-h1")
    ended = answer(fixture_store, **base, service="general-outpatient", hospital="fx-h1")
    assert ended.values["direct_settlement"] is False  # networked until 2024-12-31
    other = answer(fixture_store, **base, service="inpatient", hospital="fx-h2")
    assert other.values["direct_settlement"] is False  # networked for 门特 only
    unknown = answer(fixture_store, **base, service="inpatient", hospital="fx-h3")
    assert unknown.values["direct_settlement"] is None
    assert unknown.reasons["direct_settlement"]["en"] == (
        "the graph has no networked-service data for this institution"
    )
    unfiled = answer(
        fixture_store, **{**base, "filing_type": "none"}, service="inpatient", hospital="fx-h1"
    )
    assert unfiled.values["direct_settlement"] is False  # manual whatever the hospital


def test_item_category_from_the_most_specific_catalog_in_force(fixture_store: ox.Store) -> None:
    base = {"insured_region": "郑州", "filing_type": "referral"}
    beijing = answer(fixture_store, **base, treatment_region="北京", item="阿卡波糖")
    assert beijing.values["item_category"] == "乙"  # the municipal test catalog
    record = next(e for e in beijing.explanations if e.key == "item_category")
    assert record.rule == "fx-bj-2025/T-1" and record.source.document == "fx-catalog-doc"
    shanghai = answer(fixture_store, **base, treatment_region="上海", item="阿卡波糖")
    assert shanghai.values["item_category"] == "甲"  # national
    unlisted = answer(fixture_store, **base, treatment_region="北京", item="旧测试药")
    assert unlisted.values["item_category"] == "丙"  # known, but in no catalog in force
    earlier = answer(
        fixture_store, **base, treatment_region="北京", item="旧测试药", date="2023-06-01"
    )
    assert earlier.values["item_category"] == "甲"
    none_in_force = answer(
        fixture_store, **base, treatment_region="上海", item="阿卡波糖", date="2026-06-01"
    )
    assert none_in_force.values["item_category"] is None
    assert "no catalog is in force" in none_in_force.reasons["item_category"]["en"]


def test_a_product_name_finds_its_catalog_name(default_store: ox.Store) -> None:
    """R19 names 阿卡波糖片 and 瑞格列奈片; the catalog lists 阿卡波糖 and 瑞格列奈."""
    base = {"insured_region": "廊坊", "treatment_region": "北京"}
    for product, category in (("阿卡波糖片", "甲"), ("瑞格列奈片", "乙"), ("阿卡波糖咀嚼片", "乙")):
        ans = answer(default_store, **base, item=product)
        assert ans.values["item_category"] == category, product
    record = next(e for e in ans.explanations if e.key == "item_category")
    assert record.rule == "nrdl-2024/W-145"  # 阿卡波糖咀嚼片 is an item of its own


def test_a_product_word_chooses_the_dosage_form(default_store: ox.Store) -> None:
    """DOMAIN §6.4: one drug, several rows by dosage form with different categories."""
    base = {"insured_region": "廊坊", "treatment_region": "北京"}
    for product, category, number in (
        ("奥美拉唑肠溶片", "甲", "W-15"),  # 口服常释剂型
        ("奥美拉唑注射液", "乙", "W-15"),  # 注射剂
        ("二甲双胍片", "甲", "W-129"),  # 口服常释剂型
        ("二甲双胍缓释片", "乙", "W-129"),  # 缓释控释剂型, listed as 二甲双胍 / 二甲双胍Ⅱ
        ("二甲双胍Ⅱ", "乙", "W-129"),  # the row's other name
        ("美托洛尔缓释片", "乙", "W-400"),
        ("格列齐特片", "甲", "W-135"),
    ):
        ans = answer(default_store, **base, item=product)
        assert ans.values["item_category"] == category, product
        record = next(e for e in ans.explanations if e.key == "item_category")
        assert record.rule == f"nrdl-2024/{number}", product
    explicit = answer(default_store, **base, item="二甲双胍", dosage_form="缓释片")
    assert explicit.values["item_category"] == "乙"
    with pytest.raises(LookupFailed) as err:  # listed only as tablets
        answer(default_store, **base, item="阿卡波糖注射液")
    assert err.value.query == "注射剂" and "口服常释剂型" in err.value.candidates


def test_unknown_and_ambiguous_items(default_store: ox.Store) -> None:
    base = {"insured_region": "佛山", "treatment_region": "北京"}
    with pytest.raises(LookupFailed) as err:
        answer(default_store, **base, item="阿卡波唐")
    assert "阿卡波糖" in err.value.candidates
    with pytest.raises(LookupFailed) as err:
        answer(default_store, **base, item="奥美拉唑")
    assert err.value.ambiguous
    assert err.value.candidates == ["口服常释剂型 甲", "注射剂 乙"]
    with pytest.raises(LookupFailed) as err:
        answer(default_store, **base, item="奥美拉唑", dosage_form="丸剂")
    assert err.value.candidates == ["口服常释剂型", "注射剂"]


def test_item_category_feeds_the_item_category_condition(default_store: ox.Store) -> None:
    ctx = resolve_scenario(
        default_store,
        Scenario(
            insured_region="廊坊",
            treatment_region="北京",
            item="瑞格列奈",
            date=resolve._date("2025-06-01"),
        ),
    )
    assert ctx.values["item_category"] == "乙"
    assert [ctx_notation(i) for i in ctx.ancestors["item_category"]] == ["乙"]


def test_selection_gates_the_institution_limits(default_store: ox.Store) -> None:
    ans = answer(
        default_store,
        insured_region="佛山",
        treatment_region="北京",
        filing_type="long-term-resident",
        service="inpatient",
    )
    assert ans.values["institution_limit"] is None
    assert ans.reasons["institution_limit"]["en"].startswith("no selection needed")
    assert applied(ans, "institution_selection") == ["foshan-inpatient-long-term-no-selection"]


def test_materials_keep_alternatives(default_store: ox.Store) -> None:
    ans = answer(
        default_store,
        insured_region="佛山",
        treatment_region="北京",
        filing_type="stationed-worker",
    )
    assert ans.values["required_materials"] == [
        "identity",
        "filing-form",
        {"any_of": ["employment-proof", "personal-commitment"]},
    ]


# ------------------------------------------------------------------ JSON contract and text


@pytest.fixture(scope="module")
def answer_schema() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        json.loads(SCHEMA.read_text(encoding="utf-8")), format_checker=jsonschema.FormatChecker()
    )


SCENARIOS = [
    {"insured_region": "佛山", "treatment_region": "北京", "scheme": "employee",
     "filing_type": "stationed-worker", "service": "general-outpatient",
     "item": "奥美拉唑", "dosage_form": "注射剂"},
    {"insured_region": "郑州", "treatment_region": "北京", "filing_type": "emergency",
     "hospital": "fx-h1", "service": "inpatient"},
    {"insured_region": "郑州", "treatment_region": "北京", "item": "旧测试药"},
    {"insured_region": "369900", "treatment_region": "赣州", "admission": "first",
     "date": "2021-01-01"},
]  # fmt: skip


@pytest.mark.parametrize("values", SCENARIOS)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_json_answers_follow_the_schema(
    fixture_store: ox.Store, answer_schema: jsonschema.Draft202012Validator, values: dict, lang: str
) -> None:
    data = answer(fixture_store, **values).to_json(lang)
    errors = [e.message for e in answer_schema.iter_errors(data)]
    assert errors == []
    assert list(data["values"]) == resolve.answer_keys()
    for key, value in data["values"].items():
        if value is None:
            assert data["reasons"].get(key), f"{key} is null without a reason"


def test_every_explanation_cites_its_source(default_store: ox.Store) -> None:
    ans = answer(
        default_store,
        insured_region="佛山",
        treatment_region="北京",
        filing_type="other-temporary",
        service="chronic-special-outpatient",
    )
    rules = [e for e in ans.explanations if e.rule]
    assert rules
    for e in rules:
        assert e.source is not None and e.source.document and e.source.quote, e.rule
        assert e.source.confidence in {"V", "P", "U"}
        assert e.applied or e.overridden_by or "conflict" in e.why["en"]
    cut = ans.deciding("ratio_reduction_pp")[0]
    assert cut.rule == "foshan-cso-self-directed-ratio-reduction"
    assert cut.source.document == "seed-004" and "降幅20%" in cut.source.quote


def test_resolution_needs_no_query_once_the_regions_are_known(
    default_store: ox.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {"insured_region": "佛山", "treatment_region": "北京", "filing_type": "referral"}
    first = answer(default_store, **values).to_json()
    calls: list[str] = []
    real = query.run_named

    def counting(store: ox.Store, name: str, params: object = None) -> object:
        calls.append(name)
        return real(store, name, params)  # type: ignore[arg-type]

    monkeypatch.setattr(query, "run_named", counting)
    again = answer(default_store, **values).to_json()
    assert again == first
    assert calls == []  # rules per region, chains and names are read once per store


PLACES = ("佛山", "北京", "上海", "珠海", "江西", "武汉", "青海", "廊坊", "内蒙古", "Foshan")


def test_reading_every_rule_at_once_gives_the_same_answers(
    default_store: ox.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = [
        {"insured_region": "佛山", "treatment_region": "北京", "filing_type": "stationed-worker",
         "service": "general-outpatient"},
        {"insured_region": "369900", "treatment_region": "上海", "scheme": "employee",
         "filing_type": "referral", "service": "inpatient", "hospital_level": "3"},
        {"insured_region": "珠海", "treatment_region": "广州", "filing_type": "none",
         "service": "chronic-special-outpatient"},
    ]  # fmt: skip
    monkeypatch.setattr(resolve, "_ENGINES", {})
    monkeypatch.setattr(resolve, "READ_ALL_AFTER", 10_000)
    one_by_one = [answer(default_store, **c).to_json() for c in cases]
    monkeypatch.setattr(resolve, "_ENGINES", {})
    monkeypatch.setattr(resolve, "READ_ALL_AFTER", 0)
    at_once = [answer(default_store, **c).to_json() for c in cases]
    assert resolve.engine_for(default_store)._all_rules
    assert at_once == one_by_one


def test_no_region_codes_or_city_names_in_the_engine() -> None:
    """Rules are data: no string constant of the engine is a region code or a place name."""
    for module in ("resolve", "explain", "scenario", "results"):
        tree = ast.parse((Path(resolve.__file__).parent / f"{module}.py").read_text("utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if id(node) in docstrings:
                    continue
                assert not re.fullmatch(r"\d{6}", node.value), (module, node.value)
                assert not any(p in node.value for p in PLACES), (module, node.value)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*YIBAO, *args], capture_output=True, text=True, timeout=300, cwd="/",
        env={**os.environ, "YIBAO_STORE": ""},
    )  # fmt: skip


def test_which_rule_text_shows_the_deciding_rule_and_what_it_overrode(
    default_store_dir: Path,
) -> None:
    out = run_cli(
        "which-rule", "--insured", "佛山市", "--treated", "北京", "--filing", "stationed-worker",
        "--service", "general-outpatient", "--date", "2025-06-01",
        "--store", str(default_store_dir),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    block = out.stdout.split("\n\ninstitution_limit")[1].split("\n\n")[0]
    assert "3" in block.splitlines()[0]
    assert "✔ foshan-go-long-term-institution-limit = 3 [P]" in block
    assert "常驻异地人员:在备案地及参保地共不超过3家定点医疗机构" in block
    assert "✔ foshan-go-long-term-selection" in block
    filing = out.stdout.split("\n\nfiling_required")[1].split("\n\n")[0]
    assert "✘ seed001-cp-filing-required" in filing and "nat-cp-filing-required 声明优先" in filing


def test_which_rule_in_english_and_json(default_store_dir: Path) -> None:
    args = ["which-rule", "--insured", "440600", "--treated", "110000", "--filing", "emergency",
            "--date", "2025-06-01", "--store", str(default_store_dir)]  # fmt: skip
    text = run_cli(*args, "--lang", "en")
    assert "Treated as filed: true" in text.stdout
    assert "most specific applicable rule" in text.stdout
    data = json.loads(run_cli(*args, "--format", "json").stdout)
    assert data["values"]["treated_as_filed"] is True
    assert data["context"]["scope"] == "cross-province"
    assert data["scenario"]["filing_type"] == "emergency"


def test_which_rule_flags_take_labels(default_store_dir: Path) -> None:
    base = ["which-rule", "--insured", "廊坊", "--treated", "北京", "--date", "2025-06-01",
            "--format", "json", "--store", str(default_store_dir)]  # fmt: skip
    by_code = run_cli(*base, "--scheme", "employee", "--filing", "retiree-relocated",
                      "--service", "chronic-special-outpatient")  # fmt: skip
    by_label = run_cli(*base, "--scheme", "职工", "--filing", "异地安置退休人员",
                       "--service", "门诊慢特病")  # fmt: skip
    assert by_label.returncode == 0, by_label.stderr
    # the JSON answer keeps the codes
    assert json.loads(by_label.stdout) == json.loads(by_code.stdout)
    out = run_cli(*base, "--service", "门诊慢特")
    assert out.returncode == 2 and "chronic-special-outpatient" in out.stderr


def test_which_rule_errors_are_clear(default_store_dir: Path) -> None:
    store_args = ["--store", str(default_store_dir), "--date", "2025-06-01"]
    out = run_cli("which-rule", "--insured", "佛三", "--treated", "北京", *store_args)
    assert out.returncode == 2 and "440600 佛山" in out.stderr and "Traceback" not in out.stderr
    out = run_cli(
        "which-rule", "--insured", "佛山", "--treated", "北京", "--item", "奥美拉唑", *store_args
    )
    assert out.returncode == 2 and "注射剂 乙" in out.stderr
    out = run_cli(
        "which-rule", "--insured", "佛山", "--treated", "北京", "--when", "admission", *store_args
    )
    assert out.returncode == 2 and "KEY=VALUE" in out.stderr
    out = run_cli(
        "which-rule", "--insured", "佛山", "--treated", "北京", "--date", "2025-02-30",
        "--store", str(default_store_dir),
    )  # fmt: skip
    assert out.returncode == 2 and "YYYY-MM-DD" in out.stderr


def test_text_rendering_in_both_languages(default_store: ox.Store) -> None:
    ans = answer(default_store, insured_region="佛山", treatment_region="广州", filing_type="none",
                 service="inpatient")  # fmt: skip
    zh, en = render_text(ans, "zh"), render_text(ans, "en")
    assert "省内异地就医" in zh and "Intra-province" in en
    assert "foshan-inpatient-self-directed-intra-no-filing" in zh
    assert "无法" not in en


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("湖北省仙桃市", "429004"),
        ("广东省佛山市南海区", "440605"),
        ("长春市朝阳区", "220104"),  # 朝阳区 alone is ambiguous (北京, 长春)
        ("北京市朝阳区", "110105"),
        ("Foshan City", "440600"),
    ],
)
def test_a_region_written_with_its_parents_or_an_english_suffix(
    default_store: ox.Store, text: str, code: str
) -> None:
    assert lookup.region(default_store, text).code == code


def test_a_province_where_a_pooling_region_is_needed_lists_its_pools(
    default_store: ox.Store,
) -> None:
    with pytest.raises(KgError, match="220200 吉林市"):
        resolve_scenario(default_store, Scenario(insured_region="吉林", treatment_region="北京"))
    with pytest.raises(KgError, match="369900 江西省省本级"):
        resolve_scenario(default_store, Scenario(insured_region="Jiangxi", treatment_region="北京"))
    with pytest.raises(LookupFailed, match="440600 佛山市"):
        lookup.region(default_store, "44060")
