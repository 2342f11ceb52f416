"""Backbones registered in the ``mmsofteq`` scope: the group-equivariant CNN and its layers."""
from .gcnn import GCNN
from .gconv import (GroupBatchNorm, GroupConv2d, GroupPool, LiftingConv2d, act_on_group_features,
                    spatial_pool)

__all__ = ['GCNN', 'GroupBatchNorm', 'GroupConv2d', 'GroupPool', 'LiftingConv2d',
           'act_on_group_features', 'spatial_pool']
