"""A kernel's state offsets come from the names its spec declares (optimizers/base.py
``state_slots``): the kernel and the inspector cannot disagree about a slot."""

from __future__ import annotations

import importlib

import pytest

from optimizers.base import state_slots
from optimizers.registry import OPTIMIZERS


def test_vectors_take_two_slots_then_the_scalars_follow():
    assert state_slots(("m", "v"), ("k", "d"), "v", "m", "d") == (2, 0, 5)


def test_a_name_the_spec_does_not_declare_fails_at_import():
    with pytest.raises(KeyError, match="'u'"):
        state_slots(("m", "v"), (), "m", "u")


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_each_kernel_module_reads_the_tuples_its_spec_declares(name):
    kernel = OPTIMIZERS[name].kernel
    module = importlib.import_module(kernel.step.py_func.__module__)
    states = [v for k, v in vars(module).items() if k.endswith("STATE") and isinstance(v, tuple)]
    assert any(kernel.state is state for state in states) or (kernel.state == () and not states)
    assert kernel.scalars == () or kernel.scalars is module.SCALARS
