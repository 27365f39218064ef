"""Training and deployment hooks: reproducible training datasets, registered models, and
deploys that refuse missing, stale, incompatibly changed or skewed features."""

from featurestore.lifecycle.datasets import (
    create_training_dataset,
    get_training_dataset,
    list_training_datasets,
)
from featurestore.lifecycle.deploy import (
    DeployReport,
    current_deployment,
    deploy_model,
    deployed_features,
    deployment_history,
    list_deployments,
    rollback_deployment,
    undeploy_model,
)
from featurestore.lifecycle.hooks import with_features
from featurestore.lifecycle.models import get_model, list_models, register_model
from featurestore.lifecycle.records import (
    DeployCheck,
    Deployment,
    Model,
    TrainingDataset,
    ViewLineage,
)
from featurestore.lifecycle.verify import VerifyReport, verify_training_dataset

__all__ = [
    "DeployCheck",
    "DeployReport",
    "Deployment",
    "Model",
    "TrainingDataset",
    "VerifyReport",
    "ViewLineage",
    "create_training_dataset",
    "current_deployment",
    "deploy_model",
    "deployed_features",
    "deployment_history",
    "get_model",
    "get_training_dataset",
    "list_deployments",
    "list_models",
    "list_training_datasets",
    "register_model",
    "rollback_deployment",
    "undeploy_model",
    "verify_training_dataset",
    "with_features",
]
