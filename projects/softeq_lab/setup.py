"""softeq_lab: the experiments behind mmsofteq's results (installed with ``make env``)."""
from setuptools import find_packages, setup

setup(
    name='softeq-lab',
    version='0.1.0',
    description='Sweeps, paper cells, the digits experiments and the demo of mmsofteq',
    packages=find_packages(include=['softeq_lab', 'softeq_lab.*']),
    python_requires='>=3.9',
    install_requires=['mmsofteq', 'scikit-learn', 'matplotlib'],
)
