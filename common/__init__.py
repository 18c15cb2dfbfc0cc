"""Pieces shared by the math packages: parameter specs and the one validation error."""

from common.errors import ConfigError
from common.params import Param

__all__ = ["ConfigError", "Param"]
