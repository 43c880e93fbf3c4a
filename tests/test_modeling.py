"""The network matches the spec (size, MACs, shapes), loads and saves exactly, and rejects bad input."""

import json

import pytest
import torch

from litedepth_hf import LiteDepthConfig, LiteDepthForDepthEstimation

pytestmark = pytest.mark.core


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return LiteDepthForDepthEstimation(LiteDepthConfig()).eval()


def test_parameter_count_matches_spec(model):
    count = sum(p.numel() for p in model.parameters())
    assert abs(count - 388_000) / 388_000 < 0.05, count
    assert sum(p.numel() for p in model.decoder.parameters()) == 15_513  # the spec's decoder, exactly


def test_macs_at_128x160_match_spec(model):
    from litedepth_hf.complexity import macs_and_params

    macs, params = macs_and_params(model, torch.zeros(1, 3, 128, 160))
    assert abs(macs - 26.7e6) / 26.7e6 < 0.05, macs
    assert params == sum(p.numel() for p in model.parameters())


def test_taps_and_decoder_features(model):
    assert model.encoder.channels == [16, 24, 48, 96]
    out = model(torch.randn(2, 3, 128, 160), output_hidden_states=True)
    shapes = [tuple(h.shape) for h in out.hidden_states]
    assert shapes == [(2, 72, 4, 5), (2, 24, 8, 10), (2, 8, 16, 20), (2, 24, 32, 40)]
    # pre-activation: the fusion convs' outputs take negative values before their ReLU
    assert (out.hidden_states[0] < 0).any()


def test_output_size_and_range(model):
    x = torch.randn(2, 3, 96, 128)
    assert model(x).predicted_depth.shape == (2, 24, 32)  # "none": the 1/4-resolution map
    upsampling = LiteDepthForDepthEstimation(LiteDepthConfig(upsample_mode="bilinear")).eval()
    assert upsampling(x).predicted_depth.shape == (2, 96, 128)
    depth = model(x, output_size=(240, 384)).predicted_depth
    assert depth.shape == (2, 240, 384)
    assert depth.min() >= model.config.min_depth and depth.max() <= model.config.max_depth


def test_labels_give_a_finite_loss_and_gradients(model):
    labels = torch.rand(2, 60, 80) + 0.5
    labels[0, :10] = 0.0
    labels[1, :5] = float("nan")
    out = model.train()(torch.randn(2, 3, 64, 96), labels=labels)
    model.eval()
    assert out.predicted_depth.shape == labels.shape
    assert torch.isfinite(out.loss)
    out.loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    model.zero_grad()


@pytest.mark.parametrize("shape", [(1, 3, 100, 160), (1, 1, 128, 160), (3, 128, 160)])
def test_bad_pixel_values_are_rejected(model, shape):
    with pytest.raises(ValueError, match="pixel_values"):
        model(torch.zeros(shape))


def test_save_load_round_trip_is_bit_exact_and_safetensors_only(model, tmp_path):
    model.save_pretrained(tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert "model.safetensors" in files
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pth", ".ckpt"))]
    assert "modeling_litedepth.py" in files and "configuration_litedepth.py" in files  # trust_remote_code
    auto_map = json.loads((tmp_path / "config.json").read_text())["auto_map"]
    assert auto_map["AutoModelForDepthEstimation"] == "modeling_litedepth.LiteDepthForDepthEstimation"
    loaded = LiteDepthForDepthEstimation.from_pretrained(tmp_path).eval()
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name
    x = torch.randn(1, 3, 128, 160)
    assert torch.equal(model(x).predicted_depth, loaded(x).predicted_depth)
    # the weights are as readable as every other file (safetensors alone wrote them 0600)
    mode = lambda name: (tmp_path / name).stat().st_mode & 0o777  # noqa: E731
    assert mode("model.safetensors") == mode("config.json"), (oct(mode("model.safetensors")), oct(mode("config.json")))


def test_wider_native_teacher_by_config():
    teacher = LiteDepthForDepthEstimation(LiteDepthConfig(width_multiplier=2.0)).eval()
    assert teacher.encoder.channels == [32, 48, 96, 192]
    out = teacher(torch.randn(1, 3, 128, 160), output_hidden_states=True)
    assert [h.shape[1] for h in out.hidden_states] == [72, 24, 8, 8 + 32]
    assert sum(p.numel() for p in teacher.parameters()) > 3 * 388_000


def test_transformers_backbone_teacher_round_trips(tmp_path):
    backbone = {"model_type": "resnet", "depths": [1, 1, 1, 1], "hidden_sizes": [32, 64, 128, 256],
                "embedding_size": 32, "out_features": ["stage1", "stage2", "stage3", "stage4"]}
    config = LiteDepthConfig(backbone_config=backbone)
    teacher = LiteDepthForDepthEstimation(config).eval()
    assert teacher.encoder.channels == [32, 64, 128, 256]
    out = teacher(torch.randn(1, 3, 128, 160), output_hidden_states=True)
    assert out.predicted_depth.shape == (1, 32, 40)
    teacher.save_pretrained(tmp_path)
    again = LiteDepthForDepthEstimation.from_pretrained(tmp_path)
    assert again.config.backbone_config.model_type == "resnet"
    assert again.config.backbone_config.hidden_sizes == [32, 64, 128, 256]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"encoder": "mobilenetv4"}, "Unknown encoder"),
        ({"image_size": (100, 160)}, "multiples of 32"),
        ({"min_depth": 5.0, "max_depth": 1.0}, "min_depth"),
        ({"upsample_mode": "area"}, "upsample_mode"),
        ({"out_indices": (0, 1)}, "4 stages"),
        ({"width_multiplier": 0}, "width_multiplier"),
        ({"backbone_config": {"depths": [1]}}, "model_type"),
    ],
)
def test_bad_configs_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LiteDepthConfig(**kwargs)


def test_backbone_without_four_maps_is_rejected():
    config = LiteDepthConfig(backbone_config={"model_type": "resnet", "depths": [1, 1, 1, 1], "out_features": ["stage4"]})
    with pytest.raises(ValueError, match="4 feature maps"):
        LiteDepthForDepthEstimation(config)


def test_timm_encoder_weights_load_by_name(model, tmp_path):
    """timm names (conv_stem/bn1, blocks.i.j.conv_pw/bn1/...) map onto the native encoder."""
    from litedepth_hf.convert_timm_to_litedepth import load_timm_encoder_weights

    timm_names = {"conv_stem.weight": "stem.0.weight", "bn1.running_var": "stem.1.running_var",
                  "blocks.0.0.conv_dw.weight": "stages.0.0.conv_dw.0.weight",
                  "blocks.0.0.bn2.bias": "stages.0.0.conv_pw.1.bias",
                  "blocks.4.2.conv_pwl.weight": "stages.4.2.conv_pwl.0.weight",
                  "blocks.4.2.bn3.weight": "stages.4.2.conv_pwl.1.weight"}
    fresh = LiteDepthForDepthEstimation(LiteDepthConfig())
    ours = model.encoder.state_dict()
    state = {timm: ours[name].clone() + 1 for timm, name in timm_names.items()}
    state["conv_head.weight"] = torch.zeros(1024, 576, 1, 1)  # dropped, like the classifier
    missing = load_timm_encoder_weights(fresh, state)
    for timm, name in timm_names.items():
        assert torch.equal(fresh.encoder.state_dict()[name], state[timm]), timm
        assert name not in missing
    from safetensors.torch import save_file

    from litedepth_hf.convert_timm_to_litedepth import main as convert

    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp_path / "timm.safetensors"))
    assert convert([str(tmp_path / "timm.safetensors"), str(tmp_path / "converted")]) == 0
    converted = LiteDepthForDepthEstimation.from_pretrained(tmp_path / "converted")
    assert torch.equal(converted.encoder.state_dict()["stem.0.weight"], state["conv_stem.weight"])
    with pytest.raises(SystemExit, match="exists"):
        convert([str(tmp_path / "timm.safetensors"), str(tmp_path / "converted")])


def test_camera_aware_depth_scales_as_focal_length_over_canonical():
    torch.manual_seed(0)
    aware = LiteDepthForDepthEstimation(LiteDepthConfig(canonical_focal_length=0.866)).eval()
    x = torch.randn(3, 3, 128, 160)
    with torch.no_grad():
        canonical = aware(x).predicted_depth
        focal = torch.tensor([0.866 * 1.5, float("nan"), 0.866 / 2])
        scaled = aware(x, focal_length=focal).predicted_depth
        blind = LiteDepthForDepthEstimation(LiteDepthConfig()).eval()
        blind.load_state_dict(aware.state_dict())
        ignored = blind(x, focal_length=focal).predicted_depth
    assert torch.allclose(scaled[0], canonical[0] * 1.5) and torch.allclose(scaled[2], canonical[2] / 2)
    assert torch.equal(scaled[1], canonical[1])  # NaN: an unknown camera is the canonical one
    assert torch.equal(ignored, blind(x).predicted_depth)  # a model trained without it ignores the input
    with pytest.raises(ValueError, match="canonical_focal_length"):
        LiteDepthConfig(canonical_focal_length=-1.0)
