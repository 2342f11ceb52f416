"""Necks registered in the ``mmsofteq`` scope.

``mmsofteq.ClsAndMeanPatchNeck``: the features Hugging Face's ``Dinov2ForImageClassification``
feeds its linear head, ``[cls token, mean of the patch tokens]`` (``2C``), from a ViT backbone
with ``out_type='raw'`` (tokens after the final norm, ``(B, prefix + N, C)``). The authors'
CIFAR DINOv2 runs used that head.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule

from ..registry import MODELS


@MODELS.register_module()
class ClsAndMeanPatchNeck(BaseModule):
    """``(B, P + N, C) -> (B, 2C)``: ``cat(x[:, 0], mean(x[:, P:], dim=1))`` per output.

    Args:
        num_prefix_tokens: ``P``, the cls token and any register tokens before the patches.
    """

    def __init__(self, num_prefix_tokens: int = 1, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not isinstance(num_prefix_tokens, int) or num_prefix_tokens < 1:
            raise ValueError('ClsAndMeanPatchNeck: num_prefix_tokens must be an int >= 1 (the '
                             f'cls token first), got {num_prefix_tokens!r}')
        self.num_prefix_tokens = num_prefix_tokens

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        outputs = []
        for tokens in inputs:
            if tokens.dim() != 3 or tokens.shape[1] <= self.num_prefix_tokens:
                raise ValueError(
                    'ClsAndMeanPatchNeck needs (B, prefix + patches, C) tokens (the backbone\'s '
                    f"out_type='raw'), got shape {tuple(tokens.shape)}")
            patches = tokens[:, self.num_prefix_tokens:].mean(dim=1)
            outputs.append(torch.cat([tokens[:, 0], patches], dim=-1))
        return tuple(outputs)
