"""The question bank: items, immutable item versions, review into the bank, search, coverage."""
