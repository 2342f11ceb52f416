"""Where a model breaks rotation equivariance: per-layer errors and their shares.

    python tools/analysis_tools/equivariance_profile.py CONFIG [CHECKPOINT]
        [--images FOLDER] [--num-images 8] [--size 64] [--angles 90 -22.5 -7.5 7.5 22.5]
        [--top 15] [--stage-depth 3] [--out PROFILE.txt] [--markdown] [--plot PROFILE.png]
        [--cfg-options k=v ...]

Builds the model of ``CONFIG`` (any mmseg segmentor / mmpretrain classifier, with or without
``softeq``) on CPU, loads ``CHECKPOINT`` if given, and profiles it with
``mmsofteq.apis.profile_equivariance`` on ``--num-images`` images, resized to
``--size × --size`` (square, so quarter turns are exact) and normalised by the model's
``data_preprocessor``: from ``--images`` (``.png``/``.jpg``, sorted by name) or else the
config's ``test_dataloader``. Label-free. Prints the top calls by contribution, the stages'
shares, a ``softeq`` line projecting the unprojected convs among the top contributors, the
projection report (certificates) of a SoftEq model; ``--out`` gets the full table.
"""
import argparse
import os
import os.path as osp
import time


def parse_args(argv=None):
    from mmsofteq.apis import add_config_arguments
    from mmsofteq.apis.equivariance_profile import PROFILE_ANGLES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?', help='weights to load (default: the init)')
    parser.add_argument('--images', help='a folder of .png/.jpg images (default: the test set)')
    parser.add_argument('--num-images', type=int, default=8)
    parser.add_argument('--size', type=int, default=64, help='square side the images get')
    parser.add_argument('--angles', type=float, nargs='+', default=list(PROFILE_ANGLES))
    parser.add_argument('--top', type=int, default=15, help='rows printed (all in --out)')
    parser.add_argument('--stage-depth', type=int, default=3,
                        help='name parts that make a stage (backbone.layers.0 at 3)')
    parser.add_argument('--out', help='write the full table (every call) to this file')
    parser.add_argument('--markdown', action='store_true', help='tables as GitHub markdown')
    parser.add_argument('--plot', help='write a PNG: each top call\'s contribution per angle')
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    if args.num_images < 1 or args.size < 8:
        parser.error('--num-images must be >= 1 and --size >= 8')
    return args


def folder_images(folder, count):
    """``[(3, H, W) uint8 tensor]`` of the first ``count`` images (BGR, as mmcv reads)."""
    import mmcv
    import torch

    names = sorted(name for name in os.listdir(folder)
                   if name.lower().endswith(('.png', '.jpg', '.jpeg')))
    if not names:
        raise SystemExit(f'no .png/.jpg images in {folder}')
    return [torch.from_numpy(mmcv.imread(osp.join(folder, name), 'color')).permute(2, 0, 1)
            for name in names[:count]]


def dataset_images(cfg, count):
    from mmengine.runner import Runner

    loader = Runner.build_dataloader(cfg.test_dataloader)
    images = []
    for batch in loader:
        images += list(batch['inputs'])
        if len(images) >= count:
            break
    return images[:count]


def normalised_batch(model, images, size):
    """``(B, 3, size, size)``: each image resized (bilinear) then the data preprocessor."""
    import torch
    import torch.nn.functional as F

    resized = [F.interpolate(image[None].float(), size=(size, size), mode='bilinear',
                             align_corners=False)[0].round().clamp(0, 255).to(torch.uint8)
               for image in images]
    return model.data_preprocessor(dict(inputs=resized), False)['inputs']


def plot_profile(profile, count, path, title):
    """Horizontal bars: the ``count`` top calls' contributions (x100), one bar per angle."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    names = [name for name, _ in profile.top(count)][::-1]
    height = 0.8 / len(profile.angles)
    figure, axes = plt.subplots(figsize=(8, 0.15 * len(names) * len(profile.angles) + 1.2))
    for offset, angle in enumerate(profile.angles):
        shares = {call.name: 100 * call.contribution for call in angle.calls}
        axes.barh([row + offset * height for row in range(len(names))],
                  [shares[name] for name in names], height, label=f'{angle.angle:g}°')
    axes.set_yticks([row + 0.4 - height / 2 for row in range(len(names))], names, fontsize=7)
    axes.axvline(0.0, color='black', linewidth=0.5)
    axes.set_xlabel('contribution to the end-to-end relative error (x100)')
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv=None):
    args = parse_args(argv)
    from mmengine.runner import load_checkpoint

    from mmsofteq.apis import build_model_from_config, load_config
    from mmsofteq.apis.equivariance_profile import (certificate_notes, profile_equivariance,
                                                    suggested_softeq)
    from mmsofteq.nn import softeq_report
    from mmsofteq.utils import enable_safe_checkpoint_loading

    cfg = load_config(args.config, args.cfg_options)
    model = build_model_from_config(cfg, quiet=True, require_softeq=False)
    if args.checkpoint:
        enable_safe_checkpoint_loading()
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    images = (folder_images(args.images, args.num_images) if args.images
              else dataset_images(cfg, args.num_images))
    inputs = normalised_batch(model, images, args.size)
    start = time.perf_counter()
    profile = profile_equivariance(model, inputs, args.angles)
    seconds = time.perf_counter() - start
    print(f'{len(images)} images {args.size}x{args.size}, angles {args.angles}, '
          f'{len(profile.angles[0].calls)} calls, {seconds:.1f} s')
    print('end-to-end relative error (x100): ' + ', '.join(
        f'{p.angle:g}°: {100 * p.end_to_end:.2f}' for p in profile.angles))
    print(f'\ntop {args.top} calls by mean contribution (x100; they add up to the end-to-end '
          'error with the rest):')
    style = 'markdown' if args.markdown else 'plain'
    certificates = certificate_notes(softeq_report(model))
    print(profile.table(limit=args.top, style=style, certificates=certificates))
    print('\nstages (mean contribution x100): ' + ', '.join(
        f'{name} {100 * share:+.2f}' for name, share in profile.stages(args.stage_depth).items()))
    if profile.unmapped:
        print(f'not mapped (output is no map/tokens/vector): {", ".join(profile.unmapped)}')
    suggestion = suggested_softeq(profile, model)
    if suggestion:
        print('\nunprojected convs among the top contributors; to project them too:\n  '
              + suggestion)
    report = softeq_report(model)
    if report is not None:
        print('\nprojected tensors and their certificates:\n' + report.format())
    if args.plot:
        plot_profile(profile, args.top, args.plot,
                     f'{osp.basename(args.config)}: top {args.top} calls')
        print(f'plot: {args.plot}')
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as file:
            file.write(profile.table(style=style, certificates=certificates) + '\n')
        print(f'full table: {args.out}')


if __name__ == '__main__':
    main()
