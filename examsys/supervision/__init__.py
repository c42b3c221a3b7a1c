"""Supervision by the authority: the directory, indicators, 双随机 plans and draws, spot checks,
periodic assessment, and the analysis of a batch's process record that supervisors review."""
