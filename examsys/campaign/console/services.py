"""The console gathers the campaign's targets; it computes none itself.

Each provider is a `targets(year, scope) -> list[Target]` named by "module:function" in
PROVIDERS; adding a part of the campaign to the console, the JSON report and the summary PDF is
one line there. The strings are resolved once, when this module is imported. A key given by two
providers is shown once (the first).

"领航型" (leading) organisations: at or above the goal on every target that applies to them
(a value to count) and with at least one such target. Targets that measure the authorities' own
work rather than the organisation's (how many of its batches the province drew, whether the
province assessed its expiring filing, the cities' staff training) do not make an organisation
leading or not: AUTHORITY_KEYS."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from examsys.accounts.models import City, Organisation
from examsys.campaign.targets import Scope, Target
from examsys.campaign.workforce import services as workforce

PROVIDERS = (
    "examsys.campaign.satisfaction.services:targets",
    "examsys.campaign.certdata.services:targets",
    "examsys.campaign.workforce.services:targets",
    "examsys.campaign.console.supervision_targets:targets",
)


def _load(spec: str) -> Callable[[int, Scope], list[Target]]:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


AUTHORITY_KEYS = frozenset({"staff_trained", "sampling_social", "sampling_employer", "filing_expired_assessed"})

_PROVIDED = tuple(_load(spec) for spec in PROVIDERS)


def gather(year: int, scope: Scope) -> list[Target]:
    out: dict[str, Target] = {}
    for provider in _PROVIDED:
        for target in provider(year, scope):
            out.setdefault(target.key, target)
    return list(out.values())


def leading(targets: list[Target]) -> bool:
    counted = [t for t in targets if t.met is not None and t.key not in AUTHORITY_KEYS]
    return bool(counted) and all(t.met for t in counted)


@dataclass
class CityRow:
    city: City
    targets: list[Target]


@dataclass
class OrgRow:
    organisation: Organisation
    targets: list[Target]

    @property
    def leading(self) -> bool:
        return leading(self.targets)


@dataclass
class Overview:
    year: int
    scope: Scope
    targets: list[Target]
    cities: list[CityRow]
    organisations: list[OrgRow]

    @property
    def keys(self) -> list[Target]:
        """The targets in order (their key and label), for table heads."""
        return self.targets

    @property
    def org_columns(self) -> list[int]:
        """The targets (by position) some organisation has a value for: the organisation table's columns."""
        return [i for i in range(len(self.targets)) if any(r.targets[i].value is not None for r in self.organisations)]

    @property
    def leaders(self) -> list[OrgRow]:
        return [r for r in self.organisations if r.leading]


def overview(year: int, city: City | None = None) -> Overview:
    """The province's (city None) or one city's figures, per city and per organisation."""
    scope = Scope(city_id=city.id if city else None)
    cities = [city] if city is not None else workforce.cities()
    return Overview(year, scope, gather(year, scope),
                    [CityRow(c, gather(year, Scope(city_id=c.id))) for c in cities],
                    [OrgRow(o, gather(year, Scope(organisation_id=o.id))) for o in workforce.organisations(scope)])


def as_json(view: Overview) -> dict:
    return {
        "year": view.year,
        "city": view.cities[0].city.code if view.scope.city_id is not None else None,
        "targets": [t.as_json() for t in view.targets],
        "cities": [{"code": r.city.code, "name": r.city.name, "targets": [t.as_json() for t in r.targets]}
                   for r in view.cities],
        "organisations": [{"code": r.organisation.code, "name": r.organisation.name, "leading": r.leading,
                           "targets": [t.as_json() for t in r.targets]} for r in view.organisations],
        "leading": [r.organisation.code for r in view.leaders],
    }
