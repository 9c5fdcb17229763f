"""The projector runtime: Kafka consumer, batches, the projection protocol, bookkeeping, dead letters, metrics, lag."""
