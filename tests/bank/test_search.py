"""Search filters, tenancy, Chinese substring search, near-duplicate detection."""

from datetime import date, timedelta

import pytest

from examsys.bank import services, similarity, workflow
from examsys.bank.search import SearchFilters, search_items
from examsys.errors import PermissionDenied, ValidationError
from examsys.permissions import Role


@pytest.fixture
def corpus(bank, make, frozen_clock):
    items = {
        "judge": bank.approved("judge", point="B-01-001", levels=(5,), difficulty=1),
        "single": bank.approved("single", difficulty=2),
        "multi": bank.item("multi", point="A-01-002", difficulty=4, levels=(3,)),
        "fill": bank.item("fill", point="A-01-002", difficulty=5, status="submitted"),
    }
    frozen_clock.advance(timedelta(days=2))
    other_writer = make.user(roles=Role.WRITER, org=bank.org)
    items["short"] = bank.item("short", author=other_writer, point="B-01-002")
    services.report_fault(bank.reviewer, items["judge"], reason="表述不严谨")
    return items


def ids(page):
    return [i.id for i in page.items]


def find(bank, user=None, **filters):
    return search_items(user or bank.writer, SearchFilters(**filters), per_page=50)


def test_filters(bank, corpus):
    c = corpus
    assert set(ids(find(bank))) == {i.id for i in c.values()}
    assert ids(find(bank, qtype="single")) == [c["single"].id]
    assert set(ids(find(bank, status="approved"))) == {c["judge"].id, c["single"].id}
    assert ids(find(bank, level=3)) == [c["multi"].id]
    assert set(ids(find(bank, level=5))) == {c["judge"].id}
    assert set(ids(find(bank, point_id=bank.points["A-01-002"].id))) == {c["multi"].id, c["fill"].id}
    assert set(ids(find(bank, range_id=bank.ranges["A"].id))) == {c["single"].id, c["multi"].id, c["fill"].id}
    assert set(ids(find(bank, range_id=bank.ranges["B"].id))) == {c["judge"].id, c["short"].id}
    assert set(ids(find(bank, difficulty_min=4))) == {c["multi"].id, c["fill"].id}
    assert set(ids(find(bank, difficulty_min=2, difficulty_max=4))) == {c["single"].id, c["multi"].id,
                                                                         c["short"].id}
    assert ids(find(bank, author_id=c["short"].created_by_id)) == [c["short"].id]
    assert ids(find(bank, needs_revision=True)) == [c["judge"].id]
    assert ids(find(bank, standard_id=bank.standard.id + 999)) == []
    # Dates are calendar days in Asia/Shanghai; the clock moved two days after the first four.
    today = date(2026, 11, 26)
    assert ids(find(bank, created_from=today)) == [c["short"].id]
    assert len(ids(find(bank, created_to=today - timedelta(days=1)))) == 4
    assert c["judge"].id in ids(find(bank, updated_from=today))  # the fault report updated it
    with pytest.raises(ValidationError):
        find(bank, qtype="matching")


def test_text_search_in_chinese(bank, corpus):
    assert ids(find(bank, text="工频")) == [corpus["single"].id]
    assert ids(find(bank, text="绝缘 材料")) == [corpus["multi"].id]  # every term must occur
    assert ids(find(bank, text="ＨＺ")) == [corpus["single"].id]  # full width, any case
    assert ids(find(bank, text="100%")) == []  # no LIKE wildcards
    assert ids(find(bank, text="触电急救")) == [corpus["short"].id]


def test_order_and_pagination(bank, corpus):
    everything = ids(find(bank))
    # Most recently updated first; the short item and the reported judge item share an instant,
    # and the higher id breaks the tie.
    assert everything[:2] == [corpus["short"].id, corpus["judge"].id]
    pages = [search_items(bank.writer, None, page=p, per_page=2) for p in (1, 2, 3)]
    assert [i for p in pages for i in ids(p)] == everything
    assert (pages[0].total, pages[0].pages, pages[0].has_next, pages[2].has_next) == (5, 3, True, False)


def test_tenancy(bank, corpus, make):
    stranger = make.user(roles=Role.WRITER)
    foreign = services.create_item(stranger, stranger.organisation, standard=bank.standard,
                                   point=bank.points["A-01-001"], qtype="judge", levels=[4], difficulty=3,
                                   points=1, content=bank.content("judge"))
    assert foreign.id not in ids(find(bank))
    assert ids(find(bank, user=stranger)) == [foreign.id]
    assert ids(find(bank, user=stranger, organisation_id=bank.org.id)) == []
    province = make.user(roles=Role.PROVINCIAL_ADMIN)
    assert set(ids(find(bank, user=province, organisation_id=bank.org.id))) == {i.id for i in corpus.values()}
    with pytest.raises(PermissionDenied):
        find(bank, user=make.user(roles=Role.PROCTOR, org=bank.org))


def test_near_duplicates(bank):
    base = bank.approved("short")
    bank.approved("single")
    text = "简述触电急救的基本原则和要求。"
    [(item, score)] = similarity.similar_items(bank.org.id, text)
    assert item.id == base.id and 0.6 <= score < 1
    assert similarity.similar_items(bank.org.id, text, exclude_item_id=base.id) == []
    assert similarity.similar_items(bank.org.id, "变压器的铁芯为什么用硅钢片叠成？") == []
    assert similarity.similar_items(bank.org.id + 999, text) == []
    services.retire(bank.reviewer, base, reason="重复")
    assert similarity.similar_items(bank.org.id, text) == []


def test_similarity_measure():
    assert similarity.normalise("Ａ，b  c！电") == "abc电"
    assert similarity.jaccard(similarity.shingles("电工基础"), similarity.shingles("电工基础。")) == 1.0
    assert similarity.shingles("") == frozenset()


def test_submit_shows_the_closest_first(bank):
    workflow_items = [bank.approved("single", content=bank.content("single", stem=s)) for s in (
        "<p>我国工频交流电的频率为（  ）Hz。</p>", "<p>我国工频交流电的频率通常为（  ）Hz。</p>")]
    draft = bank.item("single", content=bank.content("single", stem="<p>我国工频交流电频率为（  ）Hz。</p>"))
    warnings = workflow.submit(bank.writer, draft.latest_version)
    assert [w.item for w in warnings] == workflow_items
    assert warnings[0].score >= warnings[1].score
