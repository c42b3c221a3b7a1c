"""The campaign (质量提升行动): the year's targets as live numbers per city and organisation —
satisfaction and the authority's own surveys, certificate data and its return rate, the
workforce's training and qualifications, and the console that shows them all."""
