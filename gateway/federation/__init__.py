"""Federation between centres: routing rules, the outbox, delivery to peers."""
