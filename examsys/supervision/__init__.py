"""Supervision by the authority: supervisors, their assignments and workspace, conflicts of
interest, findings and the signed internal supervision form (内部督导表)."""
