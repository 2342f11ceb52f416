"""Models registered in the ``mmsofteq`` scope."""
from .backbones import GCNN
from .canonicalized_model import Canonicalization, GroupCanonicalizer, build_canonicalized_model
from .group_actions import EXACT_GROUP_NAMES, FiniteGroup, GroupElement, finite_group
from .necks import ClsAndMeanPatchNeck
from .orbit_averaged_model import build_orbit_averaged_model
from .softeq_model import build_softeq_model

__all__ = [
    'build_softeq_model', 'build_orbit_averaged_model', 'build_canonicalized_model',
    'GroupCanonicalizer', 'Canonicalization', 'GCNN', 'EXACT_GROUP_NAMES', 'FiniteGroup',
    'GroupElement', 'finite_group', 'ClsAndMeanPatchNeck'
]
