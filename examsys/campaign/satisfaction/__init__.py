"""Satisfaction (满意度): the post-exam survey shown per organisation, batch, question and month
against the 90 % goal, candidates' comments answered by the organisation, the authority's
questionnaires (问卷调查) with their distribution by link and QR code, and interviews (个别访谈).
Other packages use `services` (figures, targets), `figures` (what counts) and `questionnaires`."""
