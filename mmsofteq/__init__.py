"""mmsofteq: tunable soft rotation equivariance for OpenMMLab backbones.

Layers, each importing only the ones above it (``docs/architecture.md``)::

    groups → projection → nn → models / engine / evaluation → apis
    (structures, utils: shared contracts and helpers with no mmsofteq imports)

Importing the package registers its models, hooks, loops and metrics in the ``mmsofteq``
registry scope. The math layers (``mmsofteq.groups``, ``mmsofteq.projection``) import no
OpenMMLab code.
"""
from .version import __version__

try:  # the OpenMMLab side is optional for the pure math API
    import mmengine  # noqa: F401
except ImportError:  # pragma: no cover
    _HAS_MMENGINE = False
else:
    _HAS_MMENGINE = True

if _HAS_MMENGINE:
    from .utils import enable_safe_checkpoint_loading
    enable_safe_checkpoint_loading()
    from . import apis, datasets, engine, evaluation, models, nn  # noqa: F401,E402  (register)
    nn.checkpoint_guard.install_load_check()
    apis.cli.install_softeq_overrides()

__all__ = ['__version__']
