"""The exam itself: candidate sign-in, attempts and their state machine, autosave, integrity
evidence, exam time, the proctor console and the satisfaction survey. Other packages import
`services` only."""
