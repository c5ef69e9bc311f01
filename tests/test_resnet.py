"""ResNet: torchvision's layout and names, its published parameter counts (counted on the meta
device, without memory), and the same outputs and gradients as a PyTorch ResNet with the same
weights."""

import tracemalloc

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.explain import count_parameters, summary
from glassnet.models.resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
)
from torch_twins import TorchResNet

# torchvision.models.<name>().num_parameters, as published in torchvision's model table
PUBLISHED = {
    resnet18: 11_689_512,
    resnet34: 21_797_672,
    resnet50: 25_557_032,
    resnet101: 44_549_160,
    resnet152: 60_192_808,
}

# a few entries of torchvision.models.resnet50().state_dict(): names, order and shapes
TORCHVISION_RESNET50_KEYS = [
    ("conv1.weight", (64, 3, 7, 7)),
    ("bn1.weight", (64,)),
    ("bn1.bias", (64,)),
    ("bn1.running_mean", (64,)),
    ("bn1.running_var", (64,)),
    ("bn1.num_batches_tracked", ()),
    ("layer1.0.conv1.weight", (64, 64, 1, 1)),
    ("layer1.0.bn1.weight", (64,)),
]
TORCHVISION_RESNET50_SHAPES = {
    "layer1.0.conv2.weight": (64, 64, 3, 3),
    "layer1.0.conv3.weight": (256, 64, 1, 1),
    "layer1.0.downsample.0.weight": (256, 64, 1, 1),
    "layer1.0.downsample.1.running_var": (256,),
    "layer2.0.conv2.weight": (128, 128, 3, 3),
    "layer2.0.downsample.0.weight": (512, 256, 1, 1),
    "layer3.5.bn3.weight": (1024,),
    "layer4.2.conv3.weight": (2048, 512, 1, 1),
    "fc.weight": (1000, 2048),
    "fc.bias": (1000,),
}


@pytest.mark.parametrize("build", list(PUBLISHED), ids=lambda f: f.__name__)
def test_parameter_counts_equal_torchvisions_without_allocating(build):
    def count():
        with gn.device("meta"):
            return count_parameters(build())

    tracemalloc.start()
    try:
        assert count() == PUBLISHED[build]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20  # ResNet-152's float32 weights would take 241 MB


def test_resnet50_summary_on_meta_shapes_and_memory():
    tracemalloc.start()
    try:
        with gn.device("meta"):
            model = resnet50()
        table = summary(model, input_shape=(3, 224, 224))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20
    assert table.total_params == 25_557_032 and table.trainable_params == 25_557_032
    shapes = {row.name: row.output_shape for row in table.rows}
    assert shapes["conv1"] == [1, 64, 112, 112]
    assert shapes["maxpool"] == [1, 64, 56, 56]
    assert shapes["layer1.0.downsample.0"] == [1, 256, 56, 56]
    assert shapes["layer3.5.conv3"] == [1, 1024, 14, 14]
    assert shapes["avgpool"] == [1, 2048, 1, 1]
    assert shapes["fc"] == [1, 1000]


def test_state_dict_keys_follow_torchvision():
    with gn.device("meta"):
        state = resnet50().state_dict()
    assert len(state) == 320  # 161 parameters and 159 batch-norm buffers, as torchvision's
    assert [(k, v.shape) for k, v in list(state.items())[:8]] == TORCHVISION_RESNET50_KEYS
    for key, shape in TORCHVISION_RESNET50_SHAPES.items():
        assert state[key].shape == shape, key
    assert list(state)[-2:] == ["fc.weight", "fc.bias"]


def test_a_real_small_resnet_runs_and_initialises_like_torchvision():
    gn.manual_seed(0)
    model = resnet18(num_classes=10, zero_init_residual=True)
    out = model(gn.randn(2, 3, 32, 32))
    assert out.shape == (2, 10) and out.dtype == np.float32
    assert not model.layer1[0].bn2.weight.data.any()  # each block starts as the identity
    assert model.layer1[0].downsample is None and model.layer2[0].downsample is not None
    w = model.conv1.weight.data  # kaiming_normal_(fan_out, relu): std sqrt(2 / (64 * 49))
    assert abs(w.std() / np.sqrt(2 / (64 * 49)) - 1) < 0.05
    with pytest.raises(ValueError, match="downloads no weights"):
        resnet50(weights="IMAGENET1K_V1")
    with pytest.raises(ValueError, match="4 block counts"):
        ResNet(BasicBlock, [1, 1, 1])


@pytest.mark.parametrize("training", [False, True])
def test_bottleneck_resnet_matches_pytorch(training):
    gn.manual_seed(0)
    ours = ResNet(Bottleneck, [1, 2, 1, 1], num_classes=7).double()
    theirs = TorchResNet("Bottleneck", [1, 2, 1, 1], num_classes=7).double()
    rng = np.random.default_rng(0)
    state = {}
    for key, value in ours.state_dict().items():  # random running statistics, not 0 and 1
        array = value.numpy()
        if key.endswith("running_var"):
            array = rng.uniform(0.5, 2.0, array.shape)
        elif key.endswith("running_mean") or key.endswith("bn3.weight"):
            array = rng.normal(0.0, 0.5, array.shape)
        state[key] = np.array(array)
    ours.load_state_dict(state)
    missing = theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    assert not missing.missing_keys and not missing.unexpected_keys
    ours.train(training)
    theirs.train(training)
    x = rng.standard_normal((2, 3, 40, 40))
    xa, xb = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_a, out_b = ours(xa), theirs(xb)
    np.testing.assert_allclose(out_a.detach().numpy(), out_b.detach().numpy(), rtol=1e-9, atol=1e-9)
    upstream = rng.standard_normal(out_a.shape)
    out_a.backward(upstream)
    out_b.backward(torch.tensor(upstream))
    np.testing.assert_allclose(xa.grad.numpy(), xb.grad.numpy(), rtol=1e-8, atol=1e-10)
    for name, p in theirs.named_parameters():
        q = dict(ours.named_parameters())[name]
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-8, atol=1e-9)
