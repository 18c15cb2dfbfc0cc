"""Every optimizer the engine, the UI and the API know, in display order: one line each."""

from bench.numpy_engine.adadelta import ADADELTA
from bench.numpy_engine.adagrad import ADAGRAD
from bench.numpy_engine.adam import ADAM, ADAMW
from bench.numpy_engine.adamax import ADAMAX
from bench.numpy_engine.base import OptimizerSpec
from bench.numpy_engine.lion import LION
from bench.numpy_engine.nadam import NADAM
from bench.numpy_engine.radam import RADAM
from bench.numpy_engine.rmsprop import RMSPROP
from bench.numpy_engine.sgd import MOMENTUM, NESTEROV, SGD

OPTIMIZERS: dict[str, OptimizerSpec] = {
    spec.name: spec
    for spec in (
        SGD,
        MOMENTUM,
        NESTEROV,
        ADAGRAD,
        RMSPROP,
        ADADELTA,
        ADAM,
        ADAMW,
        ADAMAX,
        NADAM,
        RADAM,
        LION,
    )
}
