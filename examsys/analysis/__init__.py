"""Item and test statistics: classical figures and IRT (pure numpy, `classical`, `irt`), the
offline CLI, statistics of marked batches per form and pooled per item version, flags fed back
to the bank as fault reports, and fixing a wrong key after the exam by regrading."""
