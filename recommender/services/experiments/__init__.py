"""A/B tests of configurations: drafting, starting, stopping and promoting experiments
(`lifecycle`), and their results (`results`)."""
