"""Near-duplicate detection against an organisation's whole bank.

Similarity is the exact Jaccard index of character-bigram sets, after normalising text
(NFKC, case folded, punctuation, symbols' surrounding spaces and all whitespace removed).
Chinese has no spaces between words, so character bigrams are the natural shingle.

How it stays fast on 100,000 items without storing anything new and without per-process state
that could disagree between app nodes:

1. Pick a few *rare* bigrams of the query (`PROBES`), spread over the text so that a partly
   rewritten duplicate still shares some. Rarity is estimated from a sample of the
   organisation's most recently updated items (one small indexed query); the estimate may be
   cached per process for a minute because it only steers speed, never the result's meaning.
2. Pre-filter in SQL: items of the organisation (not retired) whose `search_text` contains at
   least one probe (substring test by dialect, see `search.contains`), not shorter than a
   Jaccard of `threshold` allows, ranked by how many probes they contain, at most `CANDIDATES`.
3. Score those candidates exactly in Python and keep those at or above `threshold`.

An item with Jaccard >= 0.6 shares at least 60% of the query's bigrams; with probes spread over
the text the chance that it contains none of them is small, and a miss only loses a warning —
near-duplicate detection advises writers and reviewers, it never blocks.
"""

from __future__ import annotations

import time
import unicodedata
from collections import Counter

from sqlalchemy import Integer, cast, func, or_, select

from examsys.bank.models import Item, ItemStatus
from examsys.bank.search import contains, search_normalise
from examsys.extensions import db

PROBES = 3
CANDIDATES = 300
SAMPLE_SIZE = 400
_SAMPLE_TTL = 60.0
_sample_cache: dict[int, tuple[float, Counter]] = {}


def normalise(text: str) -> str:
    """Letters, digits and symbols only: NFKC, case folded, no punctuation or whitespace."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LNS")


def shingles(text: str) -> frozenset[str]:
    """Character bigrams of normalised text (a one-character text is its own shingle)."""
    norm = normalise(text)
    if len(norm) < 2:
        return frozenset({norm}) if norm else frozenset()
    return frozenset(norm[i:i + 2] for i in range(len(norm) - 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def _contiguous_bigrams(text: str) -> list[str]:
    """Bigrams that appear verbatim in a search_text (which keeps punctuation and spaces), in
    text order: both characters must survive `normalise` and be adjacent in the search form."""
    form = search_normalise(text)
    keep = [unicodedata.category(ch)[0] in "LNS" for ch in form]
    return [form[i:i + 2] for i in range(len(form) - 1) if keep[i] and keep[i + 1]]


def _bigram_sample(org_id: int) -> Counter:
    """Document frequency of bigrams in a sample of the organisation's recent items."""
    now = time.monotonic()
    hit = _sample_cache.get(org_id)
    if hit and now - hit[0] < _SAMPLE_TTL:
        return hit[1]
    texts = db.session.scalars(select(Item.search_text).where(Item.organisation_id == org_id)
                               .order_by(Item.updated_at.desc()).limit(SAMPLE_SIZE))
    df: Counter = Counter()
    for text in texts:
        df.update(set(_contiguous_bigrams(text)))
    _sample_cache[org_id] = (now, df)
    return df


def _probes(bigrams: list[str], df: Counter) -> list[str]:
    """The rarest bigram of each of PROBES equal slices of the text."""
    unique = list(dict.fromkeys(bigrams))
    if len(unique) <= PROBES:
        return unique
    size = len(unique) / PROBES
    chosen = []
    for k in range(PROBES):
        part = unique[int(k * size):int((k + 1) * size)] or unique[-1:]
        chosen.append(min(part, key=lambda b: (df[b], b)))
    return list(dict.fromkeys(chosen))


def similar_items(org_id: int, text: str, *, exclude_item_id: int | None = None, limit: int = 5,
                  threshold: float = 0.6) -> list[tuple[Item, float]]:
    """Items of organisation `org_id` whose stem and options resemble `text` (plain text of stem
    and options), best first, as (item, Jaccard score rounded to 3 places). Retired items are
    left out. Raises nothing; an empty or one-character text finds nothing."""
    query = shingles(text)
    probes = _probes(_contiguous_bigrams(text), _bigram_sample(org_id)) if len(query) > 1 else []
    if not probes:
        return []
    tests = [contains(Item.search_text, p) for p in probes]
    hits = [cast(t, Integer) for t in tests]
    matched = sum(hits[1:], hits[0])
    # |B| >= threshold * |A| for Jaccard >= threshold; a text of n characters has n-1 bigrams.
    min_length = int(threshold * len(query))
    stmt = (select(Item.id, Item.search_text)
            .where(Item.organisation_id == org_id, Item.status != ItemStatus.RETIRED,
                   func.length(Item.search_text) >= min_length, or_(*tests))
            .order_by(matched.desc(), Item.id.desc()).limit(CANDIDATES))
    if exclude_item_id is not None:
        stmt = stmt.where(Item.id != exclude_item_id)
    scored = []
    for item_id, search_text in db.session.execute(stmt):
        score = jaccard(query, shingles(search_text))
        if score >= threshold:
            scored.append((score, item_id))
    scored.sort(key=lambda s: (-s[0], -s[1]))
    scored = scored[:limit]
    if not scored:
        return []
    by_id = {i.id: i for i in db.session.scalars(select(Item).where(Item.id.in_([i for _, i in scored])))}
    return [(by_id[item_id], round(score, 3)) for score, item_id in scored]
