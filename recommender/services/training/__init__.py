"""Training: a tenant's data as arrays, fit and store sources, evaluation, queueing."""
