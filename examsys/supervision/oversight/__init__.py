"""The oversight pages of the province and the cities: organisations and their supervision files
(page and PDF), indicator scoring, and periodic assessment with its dossier (page and PDF)."""
