"""Every optimizer the engine, the UI and the API know, in display order: one line each."""

from optimizers.adadelta import ADADELTA
from optimizers.adagrad import ADAGRAD
from optimizers.adam import ADAM, ADAMW
from optimizers.adamax import ADAMAX
from optimizers.base import OptimizerSpec
from optimizers.gauss_newton import GAUSS_NEWTON
from optimizers.gd_line_search import GD_LINE_SEARCH
from optimizers.lamb import LAMB
from optimizers.lars import LARS
from optimizers.lbfgs import LBFGS
from optimizers.lion import LION
from optimizers.nadam import NADAM
from optimizers.newton import NEWTON
from optimizers.prodigy import PRODIGY
from optimizers.radam import RADAM
from optimizers.rmsprop import RMSPROP
from optimizers.schedule_free import SCHEDULE_FREE_ADAMW, SCHEDULE_FREE_SGD
from optimizers.sgd import MOMENTUM, NESTEROV, SGD
from optimizers.shampoo import SHAMPOO
from optimizers.sophia import SOPHIA

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
        SCHEDULE_FREE_SGD,
        SCHEDULE_FREE_ADAMW,
        PRODIGY,
        LAMB,
        LARS,
        SHAMPOO,
        SOPHIA,
        LBFGS,
        NEWTON,
        GD_LINE_SEARCH,
        GAUSS_NEWTON,
    )
}
