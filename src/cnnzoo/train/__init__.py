"""Training: typed configs and paper recipes, the engine, checkpoints, distributed runs."""

from cnnzoo.train.checkpoint import (
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from cnnzoo.train.config import RECIPES, Recipe, TrainConfig, resolve_config
from cnnzoo.train.engine import (
    DataMismatchError,
    NonFiniteLossError,
    RunResult,
    RunStorageError,
    TrainingInterrupted,
    train,
)
from cnnzoo.train.evaluate import EvalResult, evaluate
from cnnzoo.train.weights import export_safetensors

__all__ = [
    "RECIPES",
    "CheckpointError",
    "DataMismatchError",
    "EvalResult",
    "NonFiniteLossError",
    "Recipe",
    "RunResult",
    "RunStorageError",
    "TrainConfig",
    "TrainingInterrupted",
    "evaluate",
    "export_safetensors",
    "load_checkpoint",
    "resolve_config",
    "save_checkpoint",
    "train",
]
