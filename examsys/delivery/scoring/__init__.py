"""Scoring a batch's exam: grading, marking of open items, results, their review (复核),
corrections, publication (公示) and candidates' score review applications. Other packages
import `services` only."""
