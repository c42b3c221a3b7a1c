"""双随机、一公开: the province's yearly sampling plans, their committed seeds and draws (the
first and the rolling ones), the automatic assignment of drawn batches, and live coverage."""
