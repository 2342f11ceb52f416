"""mmsofteq: tunable soft rotation equivariance for OpenMMLab (mmseg / mmpretrain)."""
from setuptools import find_packages, setup

setup(
    name='mmsofteq',
    version='0.1.0',
    description='Tunable soft rotation equivariance with guarantees for OpenMMLab backbones',
    long_description=open('README.md', encoding='utf-8').read() if __import__('os').path.exists(
        'README.md') else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    packages=find_packages(include=['mmsofteq', 'mmsofteq.*']),
    python_requires='>=3.9',
    install_requires=[
        'torch>=2.0',
        'numpy',
        'scipy',
        'mmengine>=0.10,<1',
        'mmcv>=2.0,<2.2',
        'mmsegmentation>=1.2,<1.3',
        'mmpretrain>=1.2',
        'ftfy',
        'regex',
    ],
    # matplotlib: the equivariance profile's --plot; the experiments project needs scikit-learn too
    extras_require={'plot': ['matplotlib'], 'tests': ['pytest']},
)
