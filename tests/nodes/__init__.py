"""Two app nodes behind nginx (issue 15, point 5): a candidate's requests alternate between the
nodes mid-exam and every outcome is the same as on one node."""
