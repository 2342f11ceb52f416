"""Registries of the ``mmsofteq`` scope (children of mmengine's roots).

Configs refer to our components with the scope prefix, e.g. ``type='mmsofteq.SoftEqModel'``,
from an mmseg or mmpretrain config alike (the same pattern as mmrazor).
"""
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import STRATEGIES as MMENGINE_STRATEGIES
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['mmsofteq.models'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMENGINE_MODEL_WRAPPERS,
                          locations=['mmsofteq.models'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['mmsofteq.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=['mmsofteq.engine'])
METRICS = Registry('metric', parent=MMENGINE_METRICS, locations=['mmsofteq.evaluation'])
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, locations=['mmsofteq.datasets'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS,
                      locations=['mmsofteq.datasets'])
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS, locations=['mmsofteq.engine'])
STRATEGIES = Registry('strategy', parent=MMENGINE_STRATEGIES, locations=['mmsofteq.engine'])
PARAM_SCHEDULERS = Registry('parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS,
                            locations=['mmsofteq.engine'])
