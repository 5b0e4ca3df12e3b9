"""The served state both whole-API tests build on (the contract test and schema fuzzing): the
tenant encoded with the tiny model, trained, and under a running A/B test, so recommendations
carry their variant."""

from recommender.engine.config_schema import merge_config
from recommender.models import Experiment
from recommender.services.config import active_config, active_config_version, config_save
from recommender.services.encoding.encode import encode_tenant
from recommender.services.experiments.lifecycle import (
    VariantSpec,
    experiment_create,
    experiment_start,
)
from recommender.services.training.train import train_tenant
from tenants.models import Tenant


def train_under_experiment(owner: Tenant, tiny_model_dir: str, name: str) -> Experiment:
    """Encode and train `owner`'s catalogue, then start an even A/B test of its configuration
    against one with another popularity weight; the running experiment."""
    config_save(tenant=owner, data={"encoder": {"model": tiny_model_dir, "device": "cpu"}})
    encode_tenant(tenant=owner)
    train_tenant(tenant=owner)
    reweighted = config_save(
        tenant=owner,
        data=merge_config(active_config(owner), {"sources": {"popular": {"weight": 0.3}}}),
        activate=False,
    )
    experiment = experiment_create(
        tenant=owner,
        name=name,
        variants=[
            VariantSpec("A", active_config_version(owner), 1),  # type: ignore[arg-type]
            VariantSpec("B", reweighted, 1),
        ],
    )
    experiment_start(experiment=experiment)
    return experiment
