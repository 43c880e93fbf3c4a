"""What one forward pass costs: multiply-accumulates and parameters (model cards, benchmarks)."""

import torch


def macs_and_params(module, sample: torch.Tensor) -> tuple:
    """(multiply-accumulates, parameters) of one forward pass, counted by torch's flop counter."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(sample)
    return counter.get_total_flops() / 2, sum(p.numel() for p in module.parameters())
