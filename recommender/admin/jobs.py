"""Admin of jobs: progress bars and file imports."""
