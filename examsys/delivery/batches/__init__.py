"""Evaluation batches (评价批次): planning, filing (评价前备案) and its changes, rosters, staff and
rooms, and the batch state table. Other packages import `services` only."""
