from recommender.models.catalog import EndUser, Interaction, Item
from recommender.models.config import RecommenderConfig
from recommender.models.experiments import Experiment, ExperimentVariant
from recommender.models.jobs import Job
from recommender.models.serving import ServedList
from recommender.models.training import (
    ItemNeighbours,
    ItemRanking,
    ModelVersion,
    RankerModel,
    UserItems,
)
from recommender.models.vectors import EmbeddingSpace, ItemVector, UserVector

__all__ = [
    "EmbeddingSpace",
    "EndUser",
    "Experiment",
    "ExperimentVariant",
    "Interaction",
    "Item",
    "ItemNeighbours",
    "ItemRanking",
    "ItemVector",
    "Job",
    "ModelVersion",
    "RankerModel",
    "RecommenderConfig",
    "ServedList",
    "UserItems",
    "UserVector",
]
