"""Projectors for soft equivariance (pure numpy/scipy/torch; no OpenMMLab imports)."""
from .api import (GENERATORS, METHODS, as_space, clear_projector_cache, equivariant_projector,
                  invariant_projector)
from .certificate import ProjectionCertificate
from .cutoff import (CUTOFF_KINDS, NULL_TOLERANCE, ROUNDINGS, TIE_TOLERANCE, Cutoff, Selection,
                     select, weights)
from .equivariant import MAX_DENSE_SVD_DIM, build_equivariant_projector, constraint_matrix
from .invariant import SIDES, build_invariant_projector, invariant_spectrum
from .projector import EquivariantProjector, InvariantProjector, SpectralFactor
from .spectral import SpectralRouteError, joint_eigenbasis

__all__ = [
    'GENERATORS', 'METHODS', 'as_space', 'clear_projector_cache', 'equivariant_projector',
    'invariant_projector', 'ProjectionCertificate', 'CUTOFF_KINDS', 'NULL_TOLERANCE',
    'ROUNDINGS', 'TIE_TOLERANCE', 'Cutoff', 'Selection', 'select', 'weights', 'SIDES',
    'MAX_DENSE_SVD_DIM', 'build_equivariant_projector',
    'constraint_matrix', 'build_invariant_projector', 'invariant_spectrum',
    'EquivariantProjector', 'InvariantProjector', 'SpectralFactor', 'SpectralRouteError',
    'joint_eigenbasis'
]
