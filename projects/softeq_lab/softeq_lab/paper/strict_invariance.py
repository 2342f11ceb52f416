"""Measure how exactly a strictly C4-projected model commutes with quarter turns, per input size.

    python -m softeq_lab.paper.strict_invariance CONFIG --sizes 224 225 [--seed 0]
        [--per-stage] [--grid-only] [--cfg-options k=v ...]

Builds the model of ``CONFIG`` on CPU from its own initialisation (no checkpoint), sets its
soft equivariance to ``group='C4', softness=0`` (every projected kernel / grid exactly
rot90-invariant), puts it in eval mode and, for each square input size ``s``, feeds one seeded
``N(0, 1)`` batch ``x (1, 3, s, s)`` and its quarter turn:

* classifiers: ``err = ‖f(rot x) − f(x)‖ / ‖f(x)‖`` on the logits;
* segmentors: ``err = ‖f(rot x) − rot f(x)‖ / ‖f(x)‖`` on the logits (``mode='tensor'``);
  ``--per-stage`` adds the same for each feature map the backbone returns.

The projected weights are invariant at every size; what the size decides is whether the
*sampling grids* of the strided layers are: a stride-``s`` layer only maps the quarter turn of
its input to the quarter turn of its output when its sampling positions are symmetric about
the centre, which ties the input size to the stride, kernel and padding of every downsampling
step (docs/math.md, "Exact invariance and input size"). The ``off-centre layers`` column lists
them per size (``mmsofteq.nn.off_centre_layers``: one forward pass with hooks; the first is
named, with how far its output grid sits from the centre); ``--grid-only`` prints that check
alone, for any mmseg/mmpretrain config (no softeq needed, nothing projected).
"""
import argparse

import torch


def parse_args(argv=None):
    from mmsofteq.apis import add_config_arguments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config with SoftEqModel or SoftEqHook')
    parser.add_argument('--sizes', type=int, nargs='+', required=True,
                        help='square input sizes to measure')
    parser.add_argument('--seed', type=int, default=0, help='seed of weights and inputs')
    parser.add_argument('--per-stage', action='store_true',
                        help='also measure each backbone output (stage) of a segmentor')
    parser.add_argument('--grid-only', action='store_true',
                        help='only check which layers sample off centre (any config)')
    add_config_arguments(parser)
    return parser.parse_args(argv)


def strict_model(cfg, seed: int) -> torch.nn.Module:
    """``cfg``'s model, randomly initialised, with ``softeq`` set to strict C4."""
    from mmsofteq.apis import build_model_from_config, merge_cfg_options

    merge_cfg_options(cfg, {'softeq.group': 'C4', 'softeq.softness': 0.0})
    torch.manual_seed(seed)
    model = build_model_from_config(cfg, quiet=True)
    for module in model.modules():  # no downloads: keep the random initialisation
        if getattr(module, 'init_cfg', None):
            init_cfg = module.init_cfg
            if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
                module.init_cfg = None
    model.init_weights()
    return model.eval()


def relative_error(model: torch.nn.Module, size: int, seed: int, segmentation: bool) -> float:
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(1, 3, size, size, generator=generator, dtype=torch.float32)
    with torch.no_grad():
        outputs = model(inputs, mode='tensor')
        turned = model(torch.rot90(inputs, 1, (2, 3)), mode='tensor')
    expected = torch.rot90(outputs, 1, (2, 3)) if segmentation else outputs
    return float((turned - expected).norm() / outputs.norm())


def stage_errors(model: torch.nn.Module, size: int, seed: int) -> list:
    """``‖g(rot x) − rot g(x)‖ / ‖g(x)‖`` for each feature map ``g`` the backbone returns."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(1, 3, size, size, generator=generator, dtype=torch.float32)
    with torch.no_grad():
        features = model.backbone(inputs)
        turned = model.backbone(torch.rot90(inputs, 1, (2, 3)))
    return [float((t - torch.rot90(f, 1, (2, 3))).norm() / f.norm())
            for f, t in zip(features, turned)]


def main(argv=None):
    args = parse_args(argv)
    from mmsofteq.apis import load_config
    from mmsofteq.utils import text_table

    from mmsofteq.nn import off_centre_layers

    cfg = load_config(args.config, args.cfg_options)
    segmentation = cfg.get('default_scope') == 'mmseg'
    if args.grid_only:
        from mmsofteq.apis import build_model_from_config
        model = build_model_from_config(cfg, quiet=True, require_softeq=False)
    else:
        model = strict_model(cfg, args.seed)
    rows = []
    for size in args.sizes:
        offsets = off_centre_layers(model, size)
        grid = 'none (centred)' if not offsets else \
            f'{len(offsets)}, first {offsets[0].describe()}'
        error = [] if args.grid_only else \
            [f'{relative_error(model, size, args.seed, segmentation):.2e}']
        if args.per_stage and not args.grid_only:
            error.append(', '.join(f'{e:.2e}' for e in stage_errors(model, size, args.seed)))
        rows.append((size, *error, grid))
    if not args.grid_only:
        print(f'{args.config}: strict C4 (softness 0), seed {args.seed}, '
              f"{'‖f(rot x) − rot f(x)‖' if segmentation else '‖f(rot x) − f(x)‖'} / ‖f(x)‖")
    header = ('input size', 'off-centre layers') if args.grid_only else (
        'input size', 'relative error', *(['per stage'] if args.per_stage else []),
        'off-centre layers')
    print(text_table(header, rows))
    return rows


if __name__ == '__main__':
    main()
