"""Fault-injection tests (RELIABILITY 8 and 9): the real app under gunicorn, real candidates'
autosave load, processes and the database killed mid-write, and a client-side ledger of every
acknowledged save checked against the database afterwards."""
