"""SyncBatchNorm in one process is BatchNorm; convert_sync_batchnorm swaps the layers in place,
sharing their parameters and running statistics. (Across ranks: test_ddp.py.)"""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn


def test_without_a_process_group_it_is_batch_norm():
    x = gn.tensor(np.random.default_rng(0).normal(size=(6, 3, 4, 4)), requires_grad=True)
    plain, synced = nn.BatchNorm2d(3).double(), nn.SyncBatchNorm(3).double()
    outputs, grads = [], []
    for layer in (plain, synced):
        x.grad = None
        out = layer(x)
        (out * out).sum().backward()
        outputs.append(out.data)
        grads.append(x.grad.data)
    np.testing.assert_array_equal(outputs[0], outputs[1])
    np.testing.assert_array_equal(grads[0], grads[1])
    np.testing.assert_array_equal(plain.running_var.data, synced.running_var.data)


def test_convert_replaces_every_batch_norm_and_keeps_its_tensors():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Sequential(nn.BatchNorm1d(5)))
    weight, running_mean = model[1].weight, model[1].running_mean
    model.eval()
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model
    assert isinstance(model[1], nn.SyncBatchNorm) and isinstance(model[2][0], nn.SyncBatchNorm)
    assert model[1].weight is weight and model[1].running_mean is running_mean
    assert not model[1].training
    assert list(model.state_dict()) == list(
        nn.Sequential(
            nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Sequential(nn.BatchNorm1d(5))
        ).state_dict()
    )


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"SyncBatchNorm\(3\): expected 3 channels"):
        nn.SyncBatchNorm(3)(gn.zeros(4, 2, 5))
