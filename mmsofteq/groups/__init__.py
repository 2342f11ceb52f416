"""Groups, spaces and their generators (pure numpy; no OpenMMLab imports)."""
from .generator import Generator, difference_generator
from .grid import (bilinear_rotation_operator, fourier_derivative_matrix, quarter_turn_operator,
                   reflection_operator, rotation_generator, rotation_operator, square_grid_size,
                   symmetry_adapted_blocks)
from .group import (DISCRETISATIONS, GROUP_NAMES_HELP, PLANAR_GROUP_NAMES_HELP, GeneratorSpec,
                    GridSpace, Group, Space, TrivialSpace, VectorSpace, frequency_operator,
                    parse_group)
from .vector import so2_generator, so3_generator, vector_reflection, vector_rotation

__all__ = [
    'Generator', 'difference_generator', 'bilinear_rotation_operator',
    'fourier_derivative_matrix', 'quarter_turn_operator', 'reflection_operator',
    'rotation_generator', 'rotation_operator', 'square_grid_size', 'symmetry_adapted_blocks',
    'DISCRETISATIONS', 'GROUP_NAMES_HELP', 'PLANAR_GROUP_NAMES_HELP', 'GeneratorSpec', 'GridSpace', 'Group', 'Space',
    'TrivialSpace', 'VectorSpace', 'frequency_operator', 'parse_group', 'so2_generator', 'so3_generator', 'vector_reflection',
    'vector_rotation'
]
