from examsys.campaign.targets import Direction, share


def test_a_share_at_its_goal_is_met_and_one_below_is_not():
    assert share("satisfaction", "考生满意度", 0.9, 9, 10).met is True
    assert share("satisfaction", "考生满意度", 0.9, 8, 10).met is False


def test_a_ceiling_is_met_at_or_below_it():
    assert share("return_rate", "上报数据退回率", 0.05, 1, 20, direction=Direction.AT_MOST).met is True
    assert share("return_rate", "上报数据退回率", 0.05, 2, 20, direction=Direction.AT_MOST).met is False


def test_nothing_to_count_is_neither_met_nor_failed():
    t = share("satisfaction", "考生满意度", 0.9, 0, 0)
    assert t.value is None and t.met is None and t.display == "无数据"
    assert t.as_json()["met"] is None
