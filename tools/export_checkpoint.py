"""Export a soft-equivariant checkpoint as a plain one: every projected ``θ`` becomes ``P·θ``.

    python tools/export_checkpoint.py CONFIG CKPT OUT [--out-config PLAIN.py]

``CONFIG`` is the training config (``mmsofteq.SoftEqModel`` wrapper or ``mmsofteq.SoftEqHook``);
``CKPT`` a checkpoint of it (keys are the base model's). The model is built, loaded and passed
to ``mmsofteq.nn.export_model``; ``OUT`` holds ``{'meta', 'state_dict'}`` with the same keys
and the effective weights, so vanilla mmseg / mmpretrain (no ``mmsofteq`` import) load it into
the base model and reproduce the soft-equivariant model's outputs at the base model's cost.
``meta`` is the checkpoint's, plus ``softeq_export`` (plain Python: source, softeq settings,
projected tensor names). ``--out-config`` writes the matching plain config
(``mmsofteq.apis.plain_config``).
"""
import require_mmsofteq  # noqa: F401,I001  (first: the install hint comes before torch loads)
import argparse
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmengine.runner.checkpoint import weights_to_cpu

from mmsofteq.apis import add_config_arguments, build_model_from_config, load_config, plain_config
from mmsofteq.engine.hooks import first_non_finite
from mmsofteq.nn import export_model, softeq_config, softeq_report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='training config (with SoftEqModel or SoftEqHook)')
    parser.add_argument('checkpoint', help='checkpoint written by training that config')
    parser.add_argument('out', help='path of the plain checkpoint to write')
    parser.add_argument('--out-config', help='also write the plain config (no mmsofteq) here')
    add_config_arguments(parser)
    return parser.parse_args(argv)


def export_checkpoint(config: Config, checkpoint: str, out: str, out_config=None) -> dict:
    """Write the plain checkpoint; return it (``{'meta': ..., 'state_dict': ...}``)."""
    model = build_model_from_config(config)
    loaded = load_checkpoint(model, checkpoint, map_location='cpu', strict=True,
                             revise_keys=[(r'^module\.', '')])
    bad = first_non_finite(model.state_dict().items())
    if bad is not None:
        raise FloatingPointError(f'{checkpoint}: {bad[0]} has {bad[1]} NaN and {bad[2]} Inf '
                                 'value(s); refusing to export non-finite weights')
    meta = dict(loaded.get('meta', {})) if isinstance(loaded, dict) else {}
    meta['softeq_export'] = dict(source=osp.abspath(checkpoint),
                                 softeq=softeq_config(model).as_dict(),
                                 projected=softeq_report(model).projected_names())
    exported = dict(meta=meta, state_dict=weights_to_cpu(export_model(model).state_dict()))
    torch.save(exported, out)
    if out_config:
        plain_config(config).dump(out_config)
    return exported


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    exported = export_checkpoint(cfg, args.checkpoint, args.out, args.out_config)
    projected = exported['meta']['softeq_export']['projected']
    print(f'wrote {args.out}: {len(exported["state_dict"])} tensors, {len(projected)} replaced '
          f'by their effective P·θ' + (f'; plain config {args.out_config}'
                                      if args.out_config else ''))


if __name__ == '__main__':
    main()
