"""Groups, spaces and their generators (pure numpy; no OpenMMLab imports)."""
from .asymmetry import (RotationMeasure, asymmetry_form, asymmetry_generator, evaluation_measure,
                        exact_asymmetry_form, exact_elements, pooled_asymmetry,
                        quarter_turn_form, quarter_turn_symmetric, relative_asymmetry)
from .generator import Generator
from .grid import (bilinear_rotation_operator, fourier_derivative_matrix, quarter_turn_operator,
                   reflection_operator, resampled_rotation_operator, rotation_generator,
                   rotation_operator, square_grid_size, symmetry_adapted_blocks)
from .group import (DEFAULT_ANGLE_RANGE, DISCRETISATIONS, GROUP_NAMES_HELP,
                    PLANAR_GROUP_NAMES_HELP, GeneratorSpec, GridSpace, Group, Space,
                    TrivialSpace, VectorSpace, frequency_operator, parse_group)
from .vector import so2_generator, so3_generator, vector_reflection, vector_rotation

__all__ = [
    'DEFAULT_ANGLE_RANGE', 'RotationMeasure', 'asymmetry_form', 'asymmetry_generator',
    'evaluation_measure', 'exact_asymmetry_form', 'exact_elements', 'pooled_asymmetry',
    'quarter_turn_form', 'quarter_turn_symmetric', 'relative_asymmetry',
    'resampled_rotation_operator', 'Generator',
    'bilinear_rotation_operator', 'fourier_derivative_matrix', 'quarter_turn_operator',
    'reflection_operator', 'rotation_generator', 'rotation_operator', 'square_grid_size',
    'symmetry_adapted_blocks', 'DISCRETISATIONS', 'GROUP_NAMES_HELP', 'PLANAR_GROUP_NAMES_HELP',
    'GeneratorSpec', 'GridSpace', 'Group', 'Space', 'TrivialSpace', 'VectorSpace',
    'frequency_operator', 'parse_group', 'so2_generator', 'so3_generator', 'vector_reflection',
    'vector_rotation'
]
