"""Jobs: one lifecycle wrapper, recovery of jobs whose worker died, and the job kinds."""
