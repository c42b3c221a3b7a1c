"""The quality-supervision indicator system (质量督导指标体系): versioned sets of indicators in
six dimensions with weights and scoring rules (`catalogue`), computed from examsys's data where it
can be (`compute`), otherwise entered with evidence (`services`)."""
