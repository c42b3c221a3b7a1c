"""The campaign console (质量提升行动): every target as a live number with its goal, for the
province, each city and each organisation, with drill-downs, charts, the JSON report and the
year-end summary PDF."""
