"""The delivery test world (tests/delivery/world.py) for the evidence loader's tests, open "now", with
what a copying test needs on top: twelve more single-choice items on form A (three objective
items say nothing about copying) and a fourth candidate, on form A, whose answers are the
reference for chance agreement."""

from __future__ import annotations

import pytest

from examsys.assembly.models import PaperFormItem
from examsys.delivery.models import RosterEntry
from tests import factories
from tests.assembly.app_factories import make_item
from tests.delivery.world import DeliveryWorld, build_world, item_content

EXTRA_SINGLES = 12


@pytest.fixture
def delivery_world(db, frozen_clock) -> DeliveryWorld:
    world = build_world(db)
    form = world.forms["A"]
    world.extra_items = []
    for k in range(EXTRA_SINGLES):
        item = make_item(world.org, world.standard, world.admin, "A-01-001", "single",
                         content=item_content("single", 100 + k))
        fi = PaperFormItem(form_id=form.id, position=5 + k, section=1, item_id=item.id,
                           item_version_id=item.active_version_id, points=2.0)
        db.session.add(fi)
        world.extra_items.append(fi)
    make = factories.Factories(db)
    id_number = factories.valid_id_number(4242)
    cand = make.candidate(world.org, name="考生4", id_number=id_number)
    entry = RosterEntry(batch_id=world.batch.id, candidate_id=cand.id, ticket_no=f"T{world.batch.id:04d}R4",
                        room_id=world.room.id, seat_no=4, order_seed=4242, start_delay_seconds=0, form_label="A")
    db.session.add(entry)
    db.session.flush()
    world.entries.append(entry)
    world.tickets.append(entry.ticket_no)
    world.id_numbers.append(id_number)
    db.session.commit()
    return world
