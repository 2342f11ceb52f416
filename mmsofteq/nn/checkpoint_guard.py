"""A checkpoint of a soft-equivariant model never loads silently into a plain one.

Such a checkpoint holds ``θ``, not ``W = P·θ``, under the base model's keys: a plain model that
loads it computes with ``θ`` and its outputs differ without any error. This happens whenever a
model is built from ``cfg.model`` alone while soft equivariance was added by the hook form
(``default_hooks=dict(softeq=...)``): mmseg's ``init_model`` / ``MMSegInferencer`` and
mmpretrain's ``get_model`` / ``ImageClassificationInferencer`` build ``cfg.model`` and never run
hooks.

* Saving: an injected model declares its re-parameterised parameters in the state dict's
  ``_metadata`` (torch and mmengine keep it through ``state_dict()``, ``weights_to_cpu`` and
  ``torch.save``; a plain list of names, loadable weights-only).
* Loading: mmengine's ``load_state_dict`` (behind ``load_checkpoint``, ``Runner.load_checkpoint``,
  ``--resume``, ``init_cfg=Pretrained`` and the inferencers) is wrapped: a declared parameter
  that the receiving model has but does not re-parameterise raises ``RuntimeError`` naming the
  fix. ``export_model`` drops the declaration with the projection.
"""
from __future__ import annotations

import re
import threading

from torch import nn

from .reparam import projected_parameters

#: Key of the declaration in a module's ``_metadata`` entry of a state dict.
METADATA_KEY = 'mmsofteq_reparameterised'

_lock = threading.Lock()
_installed = False


def declare_reparameterised(module: nn.Module, state_dict, prefix: str, local_metadata: dict):
    """State-dict hook of an injected model: list its projected parameters (relative names)."""
    names = sorted(key for key, _, _ in projected_parameters(module))
    if names:
        local_metadata[METADATA_KEY] = names


def remove_declaration(model: nn.Module) -> None:
    """Drop :func:`declare_reparameterised` from ``model`` (``export_model``)."""
    hooks = model._state_dict_hooks
    for key in [key for key, hook in hooks.items() if hook is declare_reparameterised]:
        del hooks[key]


def declared_keys(state_dict) -> list[str]:
    """Full state-dict keys a checkpoint declares as ``θ`` of a soft-equivariant model."""
    metadata = getattr(state_dict, '_metadata', None) or {}
    keys = []
    for prefix, entry in metadata.items():
        names = entry.get(METADATA_KEY) if isinstance(entry, dict) else None
        for name in names or ():
            keys.append(f'{prefix}.{name}' if prefix else name)
    return keys


def _strip_wrappers(key: str) -> str:
    return re.sub(r'^(module\.)+', '', key)


def check_loadable(model: nn.Module, state_dict) -> None:
    """Raise if ``state_dict`` declares ``θ`` for parameters ``model`` holds plainly.

    Only declared keys that ``model`` has are checked (a backbone loading a whole model's
    checkpoint through ``init_cfg=Pretrained`` sees the others revised away or unmatched).
    """
    declared = {_strip_wrappers(key) for key in declared_keys(state_dict)}
    if not declared:
        return
    present = {_strip_wrappers(name) for name, _ in model.named_parameters()}
    projected = {_strip_wrappers(key) for key, _, _ in projected_parameters(model)}
    plain = sorted((declared & present) - projected)
    if plain:
        shown = ', '.join(plain[:3]) + (f', ... ({len(plain) - 3} more)' if len(plain) > 3 else '')
        raise RuntimeError(
            f'mmsofteq: this checkpoint holds θ of a soft-equivariant model (W = P·θ) for '
            f'{len(plain)} parameter(s) that {type(model).__name__} computes with plainly '
            f'({shown}): its outputs would silently differ. Build the model with soft '
            "equivariance (the wrapper form model=dict(type='mmsofteq.SoftEqModel', model=..., "
            "softeq=...); a hook-form config's softeq is not seen by mmseg's init_model / "
            "MMSegInferencer or mmpretrain's get_model / ImageClassificationInferencer, which "
            'build cfg.model only), or export it first: python tools/export_checkpoint.py CONFIG '
            'CHECKPOINT OUT.pth writes P·θ for any plain model.')


def install_load_check() -> None:
    """Wrap ``mmengine.runner.checkpoint.load_state_dict`` with :func:`check_loadable`
    (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        from mmengine.runner import checkpoint as mmengine_checkpoint

        original = mmengine_checkpoint.load_state_dict

        def load_state_dict(module, state_dict, strict=False, logger=None):
            check_loadable(module, state_dict)
            return original(module, state_dict, strict, logger)

        load_state_dict.__wrapped__ = original
        mmengine_checkpoint.load_state_dict = load_state_dict
        _installed = True
