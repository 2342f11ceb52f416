"""Projectors for soft equivariance (pure numpy/scipy/torch; no OpenMMLab imports)."""
from .api import (METHODS, as_space, clear_projector_cache, equivariant_projector,
                  invariant_projector)
from .certificate import ProjectionCertificate
from .cutoff import NULL_TOLERANCE, TIE_TOLERANCE, Cutoff, threshold, weights
from .equivariant import MAX_DENSE_SVD_DIM, build_equivariant_projector, constraint_matrix
from .invariant import build_invariant_projector, invariant_spectrum
from .projector import EquivariantProjector, InvariantProjector, SpectralFactor
from .spectral import SpectralRouteError, joint_eigenbasis

__all__ = [
    'METHODS', 'as_space', 'clear_projector_cache', 'equivariant_projector',
    'invariant_projector', 'ProjectionCertificate', 'NULL_TOLERANCE', 'TIE_TOLERANCE', 'Cutoff',
    'threshold', 'weights', 'MAX_DENSE_SVD_DIM', 'build_equivariant_projector',
    'constraint_matrix', 'build_invariant_projector', 'invariant_spectrum',
    'EquivariantProjector', 'InvariantProjector', 'SpectralFactor', 'SpectralRouteError',
    'joint_eigenbasis'
]
