"""Periodic assessment (定期评估) of organisations whose filing expires: the window's list and
progress, the dossier assembled from examsys's data plus on-site and third-party entries, and the
decision (continue, widen, narrow, exit) that changes the directory as an audited change."""
