"""Optimizers (compiled per-run kernels), schedules, the engine and the validator: no Dash."""

from common.errors import ConfigError
from optimizers.batch import BatchResult, run_batch
from optimizers.config import RaceConfig, RacerConfig
from optimizers.race import RaceResult, RacerResult, run_race
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from optimizers.validate import parse_race, validate_race

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "BatchResult",
    "ConfigError",
    "RaceConfig",
    "RaceResult",
    "RacerConfig",
    "RacerResult",
    "parse_race",
    "run_batch",
    "run_race",
    "validate_race",
]
