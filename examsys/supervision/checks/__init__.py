"""Spot checks (评价中抽查) and rectification (整改): a supervisor checks a batch (live or after
the fact) against the indicator checklist, records findings with severity and photos, the
organisation answers each finding with its rectification and evidence, the supervisor closes or
reopens it; open findings past their deadline are overdue, flagged to the city and province."""
