from recommender.models.catalog import EndUser, Interaction, Item
from recommender.models.jobs import Job

__all__ = ["EndUser", "Interaction", "Item", "Job"]
