"""Supervision by the authority: supervisors, their assignments and workspace, conflicts of
interest, findings and the signed internal supervision form (内部督导表), and the analysis of a
batch's process record that supervisors review (anomaly flags, the answer-copying index)."""
