"""Every config under ``configs/``: its recipe, its Base twin, and one real CPU step.

* static checks (fast): the inventory, front doors = one line over a schema-named config,
  "softeq config = Base twin + a _base_/softeq recipe", rotated evaluation everywhere, the
  paper's VOC recipe, official checkpoint URLs, configs/README.md;
* ``test_config_trains_one_step_and_validates_rotated``: every config builds (model and
  datasets, on tiny on-disk data in the real layouts) and runs one training iteration and the
  rotated validation through mmengine's ``Runner`` on CPU; no checkpoint is downloaded, inputs
  are shrunk to 64 px and ViT/DINOv2 encoders are narrowed (see ``config_smoke``);
* ``test_full_size_model_builds``: the full-size ViT-B/16, DINOv2-B/14 and DINOv2-L/14 models
  (the step test runs ResNet-50 and every MiT at full size) with their projection reports.
"""
import glob
import math
import os.path as osp
import re

import pytest
from fixtures.config_smoke import (REPO, all_configs, build_model, cifar_without_checksums,
                                   drop_downloads, inner_model, shrink_config)
from fixtures.config_smoke import load_config as load

FRONT_DOORS = {  # the paths the README and users run -> the schema-named config they are
    'configs/segformer_base_voc.py': 'segmentation/segformer_mit-b0_8xb4-4.6k_voc12-512x512.py',
    'configs/segformer_softeq_voc.py':
        'segmentation/softeq_segformer_mit-b0_8xb4-4.6k_voc12-512x512.py',
    'configs/vit_base_voc.py': 'segmentation/linear_vit-b16_8xb4-4.6k_voc12-224x224.py',
    'configs/vit_softeq_voc.py': 'segmentation/softeq_linear_vit-b16_8xb4-4.6k_voc12-224x224.py',
    'configs/dinov2_base_voc.py': 'segmentation/linear_dinov2-b14_8xb4-4.6k_voc12-512x512.py',
    'configs/dinov2_softeq_voc.py':
        'segmentation/softeq_linear_dinov2-b14_8xb4-4.6k_voc12-512x512.py',
}
SEG_BASE = (['configs/segmentation/linear_vit-b16_8xb4-4.6k_voc12-224x224.py',
             'configs/segmentation/linear_dinov2-b14_8xb4-4.6k_voc12-512x512.py',
             'configs/segmentation/segformer_mit-b0_8xb4-33k_voc12aug-512x512.py'] +
            [f'configs/segmentation/segformer_mit-b{b}_8xb4-4.6k_voc12-512x512.py'
             for b in range(6)] +
            # the scale recipe: ViT-L, FlexibleRunner + FSDP + bf16 (docs/scaling.md)
            ['configs/segmentation/linear_dinov2-l14_fsdp-bf16_8xb4-4.6k_voc12-512x512.py'])
CLS_BASE = [f'configs/classification/{net}_{run}.py'
            for net, runs in (('vit-b16', ('8xb16-10e_cifar10-224px', '8xb16-10e_cifar100-224px',
                                          '8xb32-10e_in1k-224px')),
                              ('dinov2-b14', ('8xb16-10e_cifar10-224px',
                                              '8xb16-10e_cifar100-224px',
                                              '8xb32-10e_in1k-224px')),
                              ('resnet50', ('8xb16-10e_cifar10', '8xb16-10e_cifar100',
                                            '8xb32-10e_in1k')))
            for run in runs]
DEMO = ['configs/demo/segformer_pretrain_demo.py', 'configs/demo/segformer_base_demo.py',
        'configs/demo/segformer_softeq_demo.py', 'configs/demo/resnet_softeq_digits_cls.py']
# The baselines: Canon. for every Base row the paper compares, orbit averaging for
# one segmentation and one classification row.
CANON = [osp.join(osp.dirname(p), 'canon_' + osp.basename(p))
         for p in SEG_BASE[:2] + [SEG_BASE[3]] + CLS_BASE]
ORBIT = ['configs/segmentation/orbit_segformer_mit-b0_8xb4-4.6k_voc12-512x512.py',
         'configs/classification/orbit_resnet50_8xb16-10e_cifar10.py']
# The hook form (mmsofteq.SoftEqHook in default_hooks, model untouched) of one Ours row.
HOOK_FORM = {'configs/classification/softeq-hook_resnet50_8xb16-10e_cifar10.py':
             'configs/classification/softeq_resnet50_8xb16-10e_cifar10.py'}
#: every config; the generic checks (rotated evaluation, finite checks, timeout, official
#: checkpoints, no paper numbers) run on all of them
ALL_CONFIGS = all_configs()
#: mmsofteq's own configs; configs/paper/ (the paper's runs) has its own tests
#: (test_paper_configs.py)
CONFIGS = [path for path in ALL_CONFIGS if not path.startswith('configs/paper/')]
SOFTEQ_CONFIGS = [path for path in CONFIGS if osp.basename(path).startswith('softeq_')]
BASELINE_CONFIGS = [path for path in CONFIGS
                    if osp.basename(path).startswith(('canon_', 'orbit_'))]
#: baseline prefix -> (wrapper type, recipe fragment, recipe variable)
BASELINES = {
    'canon_': ('mmsofteq.CanonicalizedModel', 'configs/_base_/baselines/canon_c4.py', 'canon'),
    'orbit_': ('mmsofteq.OrbitAveragedModel', 'configs/_base_/baselines/orbit_c4.py', 'orbit'),
}


def softeq_twin(path):
    """The Base config of a soft-equivariant one (its name without the ``softeq_`` prefix)."""
    folder, name = osp.split(path)
    return osp.join(folder, name[len('softeq_'):])


def baseline_of(path):
    """``(prefix, Base twin)`` of a ``canon_`` / ``orbit_`` config."""
    folder, name = osp.split(path)
    prefix = name.split('_', 1)[0] + '_'
    return prefix, osp.join(folder, name[len(prefix):])


def softeq_fragment(path):
    """The ``configs/_base_/softeq`` recipe a soft-equivariant config inherits."""
    match = re.search(r"'\.\./_base_/softeq/(\w+\.py)'", open(osp.join(REPO, path)).read())
    return f'configs/_base_/softeq/{match.group(1)}'


def is_segmentation(cfg):
    return cfg.default_scope == 'mmseg'


# ----------------------------------------------------------------------------- static


def test_inventory_has_every_promised_config():
    ours = [osp.join(osp.dirname(p), 'softeq_' + osp.basename(p)) for p in SEG_BASE + CLS_BASE]
    assert sorted(list(FRONT_DOORS) + SEG_BASE + CLS_BASE + ours + DEMO + CANON +
                  ORBIT + list(HOOK_FORM)) == CONFIGS
    assert sorted(CANON + ORBIT) == BASELINE_CONFIGS


@pytest.mark.parametrize('path', sorted(FRONT_DOORS))
def test_front_door_is_one_line_over_its_schema_named_config(path):
    with open(osp.join(REPO, path), encoding='utf-8') as handle:
        code = [line for line in handle if line.strip() and not line.startswith('#')]
    assert code == [f"_base_ = ['./{FRONT_DOORS[path]}']\n"]
    assert load(path).to_dict() == load(f'configs/{FRONT_DOORS[path]}').to_dict()


@pytest.mark.parametrize('path', SOFTEQ_CONFIGS)
def test_softeq_config_is_its_base_twin_plus_the_softeq_keys(path):
    """What a user adopts: the Base config, wrapped model, softeq dict; nothing else moves."""
    softeq, base = load(path).to_dict(), load(softeq_twin(path)).to_dict()
    recipe = load(softeq_fragment(path)).softeq.to_dict()
    wrapper = softeq.pop('model')
    assert wrapper['type'] == 'mmsofteq.SoftEqModel'
    assert set(wrapper) == {'type', 'model', 'softeq'}
    assert wrapper['model'] == base.pop('model')
    assert softeq.pop('softeq') == recipe
    overridden = {key for key in recipe if wrapper['softeq'][key] != recipe[key]}
    assert overridden <= {'min_kernel_size'}, overridden  # the CIFAR ResNet (3x3 stem)
    assert wrapper['softeq']['group'] == 'SO2'
    assert softeq == base


@pytest.mark.parametrize('path', sorted(HOOK_FORM))
def test_hook_form_is_the_wrapper_form_with_the_model_left_alone(path):
    """``default_hooks.softeq`` holds the wrapper form's ``softeq``; ``model`` is the Base
    twin's; the base's hooks are all kept; nothing else moves."""
    hook_form, wrapper_form = load(path).to_dict(), load(HOOK_FORM[path]).to_dict()
    base = load(softeq_twin(HOOK_FORM[path])).to_dict()
    hook = hook_form['default_hooks'].pop('softeq')
    assert hook == dict(type='mmsofteq.SoftEqHook', softeq=wrapper_form['model']['softeq'])
    assert hook_form['model'] == base['model']
    assert hook_form['default_hooks'] == base['default_hooks']
    assert hook_form.get('custom_hooks') == base.get('custom_hooks')
    for config in (hook_form, wrapper_form):
        config.pop('model'), config.pop('default_hooks')
    assert hook_form == wrapper_form


@pytest.mark.slow
@pytest.mark.parametrize('path', sorted(HOOK_FORM))
def test_hook_form_projects_like_the_wrapper_form(path):
    """Built the way the Runner builds them, the two forms project the same tensors with
    the same kept counts, and the state-dict keys are the same."""
    from mmsofteq.nn import softeq_report
    from mmsofteq.registry import HOOKS

    hook_cfg, wrapper_cfg = load(path), load(HOOK_FORM[path])
    for cfg in (hook_cfg, wrapper_cfg):
        drop_downloads(cfg)
    wrapper_model = build_model(wrapper_cfg)
    hook_model = build_model(hook_cfg)
    assert softeq_report(hook_model) is None
    hook = HOOKS.build(hook_cfg.default_hooks.softeq)

    class _Runner:  # what SoftEqHook.before_run reads (no cfg: no custom_hooks to check)
        model = hook_model

    hook.before_run(_Runner())
    rows = {name: [(row.name, row.grid_size, row.softness,
                    row.certificate.kept if row.certificate else None)
                   for row in softeq_report(model).projected]
            for name, model in (('hook', hook_model), ('wrapper', wrapper_model))}
    assert rows['hook'] == rows['wrapper'] and rows['hook']
    assert list(hook_model.state_dict()) == list(wrapper_model.state_dict())


@pytest.mark.parametrize('path', BASELINE_CONFIGS)
def test_baseline_config_is_its_base_twin_plus_the_wrapper(path):
    """Canon. / orbit: the Base config, its model wrapped with the recipe's keys; nothing
    else moves (the orbit SegFormer also switches to slide inference on square crops)."""
    prefix, twin = baseline_of(path)
    wrapper_type, fragment, variable = BASELINES[prefix]
    ours, base = load(path).to_dict(), load(twin).to_dict()
    recipe = load(fragment)[variable].to_dict()
    wrapper = ours.pop('model')
    assert wrapper.pop('type') == wrapper_type
    inner = wrapper.pop('model')
    assert wrapper == recipe
    assert ours.pop(variable) == recipe
    base_model = base.pop('model')
    if path.endswith('orbit_segformer_mit-b0_8xb4-4.6k_voc12-512x512.py'):
        assert inner.pop('test_cfg') == dict(mode='slide', crop_size=(512, 512),
                                             stride=(341, 341))
        assert base_model.pop('test_cfg') == dict(mode='whole')
    assert inner == base_model
    assert ours == base


def test_baseline_recipes():
    canon = load('configs/_base_/baselines/canon_c4.py').canon
    assert canon.canonicalizer.group == 'C4' and canon.prior_weight == 1.0
    orbit = load('configs/_base_/baselines/orbit_c4.py').orbit
    assert orbit.to_dict() == dict(group='C4', combine='mean_logits', train_augment=False)


@pytest.mark.parametrize('path', ALL_CONFIGS)
def test_every_config_evaluates_with_rotated_metrics(path):
    """Rotated loops with seeded U(-30°, 30°) angles, next to mmseg's / mmpretrain's own
    metric (the loop adds the rotated one)."""
    cfg = load(path)
    assert 'mmsofteq' in cfg.custom_imports['imports']
    metric = 'IoUMetric' if is_segmentation(cfg) else 'Accuracy'
    for loop, kind in (('val_cfg', 'mmsofteq.RotatedValLoop'),
                       ('test_cfg', 'mmsofteq.RotatedTestLoop')):
        assert cfg[loop]['type'] == kind
        assert cfg[loop]['angles'] == dict(kind='uniform', low=-30.0, high=30.0, seed=0)
    assert cfg.val_evaluator['type'] == cfg.test_evaluator['type'] == metric


@pytest.mark.parametrize('path', ALL_CONFIGS)
def test_every_config_stops_on_non_finite_weights_or_loss(path):
    """``FiniteCheckHook``, ``RunGuardHook`` and ``DataCheckHook`` in ``default_hooks`` (merged
    with the base's hooks, none lost)."""
    cfg = load(path)
    assert cfg.default_hooks['finite_check'] == dict(type='mmsofteq.FiniteCheckHook')
    assert cfg.default_hooks['run_guard'] == dict(type='mmsofteq.RunGuardHook')
    assert cfg.default_hooks['data_check'] == dict(type='mmsofteq.DataCheckHook')
    assert {'timer', 'logger', 'param_scheduler', 'checkpoint', 'sampler_seed'} <= set(
        cfg.default_hooks)


@pytest.mark.parametrize('path', ALL_CONFIGS)
def test_every_config_ends_a_frozen_job_in_five_minutes(path):
    """A 300 s collective timeout in the config itself, so mmseg's / mmpretrain's own
    ``train.py`` (which never call mmsofteq's launcher defaults) get it too; the rest of the
    base's ``env_cfg`` (backend, multiprocessing) is kept."""
    cfg = load(path)
    assert cfg.env_cfg['dist_cfg']['timeout'] == 300
    assert cfg.env_cfg['dist_cfg']['backend'] == 'nccl'
    assert 'mp_cfg' in cfg.env_cfg


# Backbone lr, weight decay, head lr multiplier, crop, softness.
VOC_RECIPE = {
    'segformer': (1e-4, 0.01, 10.0, 512, 0.95),
    'vit': (5e-5, 0.07, 20.0, 224, dict(patch_embed=1.0, pos_embed=0.9)),
    'dinov2': (1e-5, 0.01, 100.0, 512, dict(patch_embed=0.95, pos_embed=1.0)),
}


@pytest.mark.parametrize('backbone', sorted(VOC_RECIPE))
def test_voc_configs_follow_the_paper_recipe(backbone):
    lr, weight_decay, head_mult, crop, softness = VOC_RECIPE[backbone]
    cfg = load(f'configs/{backbone}_softeq_voc.py')  # the front door
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.weight_decay) == ('AdamW', lr, weight_decay)
    head_lr = lr * cfg.optim_wrapper.paramwise_cfg.custom_keys['decode_head']['lr_mult']
    assert head_lr == pytest.approx(1e-3) and head_mult * lr == pytest.approx(1e-3)
    assert cfg.optim_wrapper.clip_grad.max_norm == 1.0
    # 100 epochs of 1,464 images at total batch 32 (8 GPUs x 4)
    assert cfg.train_dataloader.batch_size * 8 == 32
    assert cfg.train_cfg.max_iters == 100 * math.ceil(1464 / 32)
    warmup, cosine = cfg.param_scheduler
    assert (warmup.type, warmup.end, cosine.type, cosine.begin, cosine.end) == (
        'LinearLR', 250, 'CosineAnnealingLR', 250, cfg.train_cfg.max_iters)
    steps = {step.type: step for step in cfg.train_dataloader.dataset.pipeline}
    assert steps['RandomResize'].ratio_range == (0.5, 2.0)
    assert tuple(steps['RandomCrop'].crop_size) == (crop, crop)
    assert (steps['RandomRotate'].prob, steps['RandomRotate'].degree) == (0.5, 10)
    assert {'RandomFlip', 'PhotoMetricDistortion'} <= set(steps)
    assert cfg.train_dataloader.dataset.data_root == 'data/VOCdevkit/VOC2012'
    assert cfg.train_dataloader.dataset.ann_file == 'ImageSets/Segmentation/train.txt'
    model = inner_model(cfg)
    assert model.decode_head.num_classes == 21
    assert tuple(model.data_preprocessor['size']) == (crop, crop)
    if backbone != 'segformer':  # linear head: one 1x1 conv on the patch-token grid
        head = model.decode_head
        assert (head.type, head.num_convs, head.concat_input) == ('FCNHead', 0, False)
        assert head.in_channels == head.channels == 768
        assert model.backbone.out_type == 'featmap'
    assert cfg.model.softeq.softness == softness


CHECKPOINT = re.compile(r'https://download\.openmmlab\.com/\S+?\.pth')


def official_checkpoints():
    """Every checkpoint URL of the installed mmseg / mmpretrain model-zoo metafiles."""
    urls = set()
    for package in ('mmseg', 'mmpretrain'):
        module = __import__(package)
        pattern = osp.join(osp.dirname(module.__file__), '.mim', 'configs', '*', 'metafile.y*ml')
        for metafile in glob.glob(pattern):
            with open(metafile, encoding='utf-8') as handle:
                urls.update(CHECKPOINT.findall(handle.read()))
    return urls


def test_checkpoints_are_official_model_zoo_urls():
    known = official_checkpoints()
    used = set()
    for path in ALL_CONFIGS:
        cfg = load(path)
        found = set(CHECKPOINT.findall(repr(cfg.to_dict())))
        if '/demo/' in path:
            assert cfg.load_from is None and not found, path
        else:
            assert found, f'{path} starts from no official checkpoint'
        used |= found
    assert used and used <= known, sorted(used - known)


README_ROW = re.compile(r'^\| `(configs/[\w./-]+\.py)` \|.*\|$', re.MULTILINE)


def _readme_rows():
    with open(osp.join(REPO, 'configs', 'README.md'), encoding='utf-8') as handle:
        text = handle.read()
    rows = {match.group(1): match.group(0) for match in README_ROW.finditer(text)}
    mentioned = set(re.findall(r'`(configs/[\w./-]+\.py)`', text))
    return rows, mentioned


def _softeq_text(softeq):
    def value(item):
        if isinstance(item, dict):
            return 'dict(' + ', '.join(f'{key}={val!r}' for key, val in item.items()) + ')'
        return repr(item)
    return ', '.join(f'{key}={value(softeq[key])}'
                     for key in ('group', 'softness', 'min_kernel_size') if key in softeq)


def _baseline_text(path, cfg):
    """The README cell of a baseline row: the wrapper and its key settings."""
    model = cfg.model
    if model.type == 'mmsofteq.CanonicalizedModel':
        return (f"`CanonicalizedModel: group={model.canonicalizer.group!r}, "
                f"prior_weight={model.prior_weight!r}`")
    return f"`OrbitAveragedModel: group={model.group!r}, combine={model.combine!r}`"


def test_configs_readme_lists_every_config_with_its_keys():
    """configs/README.md: one row per config (front doors: their targets), no stale paths,
    the softeq keys (baselines: the wrapper keys) as the files set them."""
    rows, mentioned = _readme_rows()
    assert sorted(rows) == sorted(set(CONFIGS) - set(FRONT_DOORS))
    assert all(osp.isfile(osp.join(REPO, path)) for path in mentioned), sorted(
        path for path in mentioned if not osp.isfile(osp.join(REPO, path)))
    for path, row in rows.items():
        cells = [cell.strip() for cell in row.strip('|').split('|')]
        row_kind, softeq_cell = cells[3], cells[4]
        is_softeq = 'softeq' in osp.basename(path)
        cfg = load(path)
        if path in BASELINE_CONFIGS:
            prefix, _ = baseline_of(path)
            assert row_kind == {'canon_': 'Canon.', 'orbit_': 'Orbit C4'}[prefix], path
            assert softeq_cell == _baseline_text(path, cfg), path
            continue
        if path in HOOK_FORM:
            assert row_kind == 'Ours (hook form)', path
            assert softeq_cell == f'`{_softeq_text(cfg.default_hooks.softeq.softeq)}`', path
            continue
        assert row_kind == ('Ours' if is_softeq else 'Base'), path
        if is_softeq:
            softeq = cfg.model.softeq
            assert softeq_cell == f'`{_softeq_text(softeq)}`', path
            # keys the README leaves out are at their defaults
            defaults = dict(cutoff='hard', method='auto')
            others = {key: value for key, value in softeq.items()
                      if key not in ('group', 'softness', 'min_kernel_size')}
            assert set(others) <= set(defaults), (path, others)
            assert all(defaults[key] == value for key, value in others.items()), (path, others)
        else:
            assert softeq_cell == '— (no projection)', path


def test_configs_carry_no_paper_numbers():
    """The paper's numbers live in configs/README.md only (one place to keep right)."""
    numbers = re.compile(r'\d+\.\d\d / \d+\.\d\d / \d+\.\d\d / \d+\.\d\d')
    for path in ALL_CONFIGS + glob.glob(osp.join('configs', '_base_', '**', '*.py'),
                                    root_dir=REPO, recursive=True):
        with open(osp.join(REPO, path), encoding='utf-8') as handle:
            assert not numbers.search(handle.read()), path


# ----------------------------------------------------------------------------- one CPU step


def _runs_its_own_step(path):
    """Front doors are their schema-named configs to the key; a Base config with a
    ``softeq_`` twin is that twin minus the wrapper (both checked statically above), so the
    twin's step covers its model, data and loops. segformer_mit-b0 VOC stays as the Base
    (unprojected) reference."""
    if path in FRONT_DOORS:
        return False
    folder, name = osp.split(path)
    twin = osp.join(folder, 'softeq_' + name)
    return twin not in CONFIGS or path == SEG_BASE[3]


@pytest.mark.slow
@pytest.mark.parametrize('path', [path for path in CONFIGS if _runs_its_own_step(path)])
def test_config_trains_one_step_and_validates_rotated(path, dataset_roots, tmp_path,
                                                      monkeypatch):
    """Every config that is not another config to the key or its twin minus the wrapper
    (:func:`_runs_its_own_step`)."""
    from mmengine.runner import Runner

    from mmsofteq.nn import softeq_report
    from mmsofteq.utils import prepare_runtime

    cifar_without_checksums(monkeypatch)
    cfg = shrink_config(path, dataset_roots, str(tmp_path / 'work'),
                        experiment_name=f'smoke_{osp.basename(path)}')
    prepare_runtime(cfg, 'none')
    runner = Runner.from_cfg(cfg)
    runner.train()

    model = runner.model
    report = softeq_report(model)
    if 'softeq' in osp.basename(path):  # softeq_*.py, the *_softeq_voc.py front doors, demos
        assert report is not None and report.num_projected > 0, 'nothing was projected'
    else:
        assert report is None
    scalars = runner.message_hub.log_scalars
    keys = (('aAcc', 'mIoU', 'mAcc', 'aIoU', 'cIoU', 'eErr') if is_segmentation(cfg) else
            ('accuracy/top1', 'rotated_accuracy/top1', 'cAcc', 'iErr'))
    for key in keys:
        value = scalars[f'val/{key}'].current()
        assert math.isfinite(value), (key, value)
    assert runner.iter >= 1
    name = osp.basename(path)
    if name.startswith('canon_'):  # the canonicaliser trained with its prior loss
        assert model.canonical_group.name == 'C4'
        assert math.isfinite(scalars['train/loss_prior'].current())
    elif name.startswith('orbit_'):
        assert model.orbit_averaging.group.name == 'C4'


# ----------------------------------------------------------------------------- full size

FULL_SIZE = {
    # config: (parameters in millions, {projected tensor: softness})
    'configs/vit_softeq_voc.py': (86, {'backbone.pos_embed': 0.9}),
    'configs/dinov2_softeq_voc.py': (86, {'backbone.patch_embed.projection.weight': 0.95}),
    'configs/classification/softeq_vit-b16_8xb32-10e_in1k-224px.py':
        (86, {'backbone.pos_embed': 0.9}),
    'configs/classification/softeq_dinov2-b14_8xb16-10e_cifar100-224px.py':
        (86, {'backbone.patch_embed.projection.weight': 0.95}),
    'configs/segmentation/softeq_linear_dinov2-l14_fsdp-bf16_8xb4-4.6k_voc12-512x512.py':
        (304, {'backbone.patch_embed.projection.weight': 0.95}),
}


@pytest.mark.slow
@pytest.mark.parametrize('path', sorted(FULL_SIZE))
def test_full_size_model_builds(path):
    from mmsofteq.nn import softeq_report

    millions, expected = FULL_SIZE[path]
    cfg = load(path)
    drop_downloads(cfg)
    model = build_model(cfg)
    backbone_params = sum(p.numel() for p in model.backbone.parameters())
    assert backbone_params / 1e6 == pytest.approx(millions, rel=0.05)
    report = softeq_report(model)
    projected = {row.name: row.softness for row in report.projected if not row.identity}
    assert projected == expected
