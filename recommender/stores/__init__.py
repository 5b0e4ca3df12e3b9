"""SQL that services call through typed functions, one module per job. Vector SQL and index DDL
stay in `recommender.vectorstore`; trained artifacts and candidate reads in
`recommender.candidate_store`.

- `filter_sql`: an ItemFilter compiled to a SQL condition (for vectorstore and candidate_store).
- `ingest_writes`: the unnest upserts and inserts of items, users and interactions, and the
  external-id lookups around them.
- `training_reads`: a tenant's interactions and catalog read as arrays for training.
- `feedback`: served lists and the interactions attributed to them, counted per model version.
- `user_reads`: what a request reads about one user (events, exclusions, vectors, stored list) in
  one statement, and the operator preview's recent interactions.
"""
