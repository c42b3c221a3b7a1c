"""The candidate's paper with a frozen form's layout and item views kept per process: the same
paper as computed from the database each time, fewer statements once kept, and a replacement
recorded after freezing shows at once."""

from __future__ import annotations

from examsys.assembly import services as assembly
from examsys.assembly.models import PaperForm
from examsys.assembly.queries import effective_versions
from examsys.bank import qtypes
from examsys.delivery.exam import papers
from examsys.delivery.exam import services as attempts
from tests.assembly.app_factories import make_item
from tests.delivery.world import item_content


def reference_paper(attempt, db) -> list[dict]:
    """The items as the uncached code computed them: straight from the form's rows."""
    form = db.session.get(PaperForm, attempt.form_id)
    versions = effective_versions(form)
    order = assembly.candidate_order(form, attempt.order_seed, shuffle_options=attempt.batch.shuffle_options)
    out = []
    for o in order:
        v = versions[o["form_item_id"]]
        view = qtypes.get(v.qtype.value).candidate_view(v.content, o["option_order"] or None)
        out.append((o["form_item_id"], view["stem"], [x["value"] for x in view.get("options") or []]))
    return out


def shown(paper: dict) -> list:
    return [(i["item_ref"], i["stem"], [x["value"] for x in i.get("options") or []]) for i in paper["items"]]


def test_kept_paper_equals_the_computed_one_and_costs_less(delivery_world, db, count_queries):
    w = delivery_world
    w.batch.shuffle_items = w.batch.shuffle_options = True
    firsts = []
    for entry in w.entries:
        attempt = attempts.start_attempt(entry)
        db.session.commit()
        with count_queries() as cold:
            first = papers.candidate_paper(attempt)
        with count_queries() as warm:
            again = papers.candidate_paper(attempt)
        assert again == first
        assert shown(first) == reference_paper(attempt, db)
        assert warm["n"] <= 2 < cold["n"]  # the versions shown (and the batch, if not loaded yet)
        firsts.append(first)
    # Two candidates on form A with different seeds: one layout, different orders.
    assert firsts[0]["form"] == firsts[2]["form"] == "A"
    assert [i["item_ref"] for i in firsts[0]["items"]] != [i["item_ref"] for i in firsts[2]["items"]] or \
        [i.get("options") for i in firsts[0]["items"]] != [i.get("options") for i in firsts[2]["items"]]
    assert firsts[0]["sections"] == firsts[2]["sections"]


def test_replacement_after_freezing_shows_at_once(delivery_world, db):
    w = delivery_world
    attempt = attempts.start_attempt(w.entries[0])
    db.session.commit()
    before = papers.candidate_paper(attempt)  # the form's layout and views are kept now
    fi = w.form_items[("A", "single")]
    spare = make_item(w.org, w.standard, w.admin, "A-01-001", "single", content=item_content("single", 30))
    assembly.replace_item(w.admin, w.paper, fi, spare.active_version, reason="题干有歧义")
    db.session.commit()
    after = papers.candidate_paper(attempt)
    old = next(i for i in before["items"] if i["item_ref"] == fi.id)
    new = next(i for i in after["items"] if i["item_ref"] == fi.id)
    assert new["stem"] != old["stem"]
    assert new["stem"] == qtypes.get("single").candidate_view(spare.active_version.content)["stem"]
    assert shown(after) == reference_paper(attempt, db)
    assert [i["item_ref"] for i in after["items"]] == [i["item_ref"] for i in before["items"]]


def test_a_new_option_order_is_built_from_kept_versions_without_reading_them(delivery_world, db, count_queries):
    w = delivery_world
    w.batch.shuffle_items = w.batch.shuffle_options = True
    first, second = (attempts.start_attempt(entry) for entry in (w.entries[0], w.entries[2]))  # both on form A
    db.session.commit()
    papers.clear_caches()
    papers.candidate_paper(first)  # keeps form A's layout and its versions' sources
    papers._VIEWS.clear()  # every option order is new now
    with count_queries() as counted:
        paper = papers.candidate_paper(second)
    assert counted["n"] <= 2  # the versions shown (and the batch, if not loaded yet): no version read
    assert shown(paper) == reference_paper(second, db)
    assert all("key" not in item and "answer" not in item for item in paper["items"])
