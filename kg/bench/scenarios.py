"""Random which-rule scenarios over a generated data set, deterministic by seed.

Pipeline stage: benchmark input. Regions are the generated pooling regions (from the data
set's manifest); scheme, filing type, service and hospital level are drawn from the
notations of the vocabulary, so nothing here names a value of the domain.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from kg.vocab import load_vocabulary

KEYS = ("scheme", "filing_type", "service", "hospital_level")
FIRST_DAY = dt.date(2025, 1, 1)  # generated rules are in force from this day (kg.generate)
DAYS = 730


def random_scenarios(regions: list[str], count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` scenario mappings (as :meth:`kg.resolve.Scenario.from_mapping` reads them)."""
    vocab = load_vocabulary()
    choices = {key: vocab.notations(vocab.scheme_for_key[key]) for key in KEYS}
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        scenario: dict[str, Any] = {
            "insured_region": rng.choice(regions),
            "treatment_region": rng.choice(regions),
        }
        for key in KEYS:
            scenario[key] = rng.choice(choices[key])
        scenario["date"] = (FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))).isoformat()
        out.append(scenario)
    return out
