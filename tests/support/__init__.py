"""Support for tests and benchmarks: data generators that are not part of the product."""
