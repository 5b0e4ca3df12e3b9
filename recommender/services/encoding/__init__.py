"""Encoding: encoders, embedding spaces, encode jobs and their queueing."""
