"""``tools/export_checkpoint.py``: a plain checkpoint that vanilla mmseg / mmpretrain reproduce.

The soft-equivariant models are trained (mmseg, wrapper, real Runner) or initialised (mmpretrain,
hook) here; the exported checkpoint and plain config are then loaded in a subprocess that never
imports ``mmsofteq``, whose outputs must equal the soft-equivariant model's bit for bit.
"""
import json

import pytest
import torch
from fixtures import make_tiny_voc, tiny_segformer_cfg
from fixtures.tiny_models import classifier, pretrain_vit
from fixtures.tools import load_tool, run_python
from mmengine.config import Config
from mmengine.runner import Runner, load_checkpoint, save_checkpoint

from mmsofteq.apis import build_model_from_config
from mmsofteq.nn import softeq_report
from mmsofteq.utils import load_checkpoint_file

pytestmark = pytest.mark.slow  # real Runner / subprocess runs

IMPORT_MMSOFTEQ = dict(imports=['mmsofteq'], allow_failed_imports=False)


def segformer_case(tmp_path):
    """Train the wrapped tiny SegFormer for 2 iterations with the real Runner."""
    data_root = make_tiny_voc(tmp_path / 'voc', num_images=4, size=32, num_classes=4)
    cfg = tiny_segformer_cfg(data_root, tmp_path / 'work_seg', num_classes=4, max_iters=2,
                             norm_type='BN')
    cfg.model = dict(type='mmsofteq.SoftEqModel', model=cfg.model,
                     softeq=dict(group='C8', softness=dict(patch_embed=0.5, conv=0.3)))
    cfg.custom_imports = IMPORT_MMSOFTEQ
    cfg.val_cfg = dict(type='mmsofteq.RotatedValLoop')    # as in mmsofteq's configs
    cfg.test_cfg = dict(type='mmsofteq.RotatedTestLoop')
    cfg.default_hooks.finite_check = dict(type='mmsofteq.FiniteCheckHook')
    config_path = str(tmp_path / 'seg_softeq.py')
    cfg.dump(config_path)
    Runner.from_cfg(Config.fromfile(config_path)).train()
    return config_path, str(tmp_path / 'work_seg' / 'iter_2.pth')


def vit_classifier_case(tmp_path):
    """An mmpretrain ViT classifier with SoftEqHook; its checkpoint from a perturbed init."""
    cfg = Config(dict(
        default_scope='mmpretrain', custom_imports=IMPORT_MMSOFTEQ,
        model=classifier(pretrain_vit(out_type='avg_featmap'), channels=16),
        data_preprocessor=dict(num_classes=5, mean=[0., 0., 0.], std=[1., 1., 1.]),
        custom_hooks=[dict(type='mmsofteq.SoftEqHook',
                           softeq=dict(group='D4', softness=dict(patch_embed=0.2,
                                                                 pos_embed=0.4)))]))
    config_path = str(tmp_path / 'vit_softeq.py')
    cfg.dump(config_path)
    torch.manual_seed(0)
    model = build_model_from_config(Config.fromfile(config_path))
    model.init_weights()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    checkpoint = str(tmp_path / 'vit_softeq.pth')
    save_checkpoint(dict(state_dict=model.state_dict(), meta=dict(epoch=3, iter=30)), checkpoint)
    return config_path, checkpoint


def test_exported_checkpoints_reproduce_outputs_without_mmsofteq(tmp_path):
    export = load_tool('export_checkpoint.py')
    cases = {}
    for name, make in (('seg', segformer_case), ('vit', vit_classifier_case)):
        config_path, checkpoint = make(tmp_path)
        out = str(tmp_path / f'{name}_plain.pth')
        plain_config = str(tmp_path / f'{name}_plain.py')
        export.main([config_path, checkpoint, out, '--out-config', plain_config])

        cfg = Config.fromfile(config_path)
        model = build_model_from_config(cfg)
        load_checkpoint(model, checkpoint, strict=True)
        model.eval()
        torch.manual_seed(1)
        inputs = torch.randn(2, 3, 32, 32)
        with torch.no_grad():
            outputs = model(inputs, mode='tensor')
        reference = str(tmp_path / f'{name}_reference.pth')
        torch.save(dict(inputs=inputs, outputs=outputs), reference)

        exported = torch.load(out, weights_only=True)
        assert list(exported['state_dict']) == list(model.state_dict())
        projected = softeq_report(model).projected_names()
        assert exported['meta']['softeq_export']['projected'] == projected and projected
        theta = torch.load(checkpoint, weights_only=False)['state_dict']
        for key in projected:  # effective weights replaced θ; everything else is unchanged
            assert not torch.equal(exported['state_dict'][key], theta[key])
        for key in set(theta) - set(projected):
            assert torch.equal(exported['state_dict'][key], theta[key])
        assert 'mmsofteq' not in open(plain_config).read()
        cases[name] = dict(config=plain_config, checkpoint=out, reference=reference)

    assert load_checkpoint_file(cases['seg']['checkpoint'])['meta']['iter'] == 2

    script = f"""
import json, sys
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import load_checkpoint

cases = json.loads({json.dumps(json.dumps(cases))})
torch.set_num_threads({torch.get_num_threads()})  # the references' thread count: same sums
for name, case in cases.items():
    cfg = Config.fromfile(case['config'])
    assert 'custom_imports' not in cfg and not cfg.get('custom_hooks'), name
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    load_checkpoint(model, case['checkpoint'], map_location='cpu', strict=True)
    model.eval()
    reference = torch.load(case['reference'])
    with torch.no_grad():
        outputs = model(reference['inputs'], mode='tensor')
    difference = (outputs - reference['outputs']).abs().max()
    assert torch.equal(outputs, reference['outputs']), (name, difference)
    assert not [n for n, _ in model.named_buffers() if 'softeq' in n]
    print(name, 'identical', tuple(outputs.shape))

# the vanilla test loop of the plain config (mmseg's TestLoop and IoUMetric)
from mmengine.runner import Runner
cfg = Config.fromfile(cases['seg']['config'])
assert cfg.test_cfg['type'] == 'TestLoop', cfg.test_cfg
assert cfg.test_evaluator['type'].split('.')[-1] == 'IoUMetric', cfg.test_evaluator
cfg.load_from = cases['seg']['checkpoint']
cfg.work_dir = {json.dumps(str(tmp_path / 'vanilla_test'))}
metrics = Runner.from_cfg(cfg).test()
print('vanilla test metrics', sorted(metrics))
assert not [m for m in sys.modules if m.startswith('mmsofteq')], 'mmsofteq was imported'
"""
    result = run_python(script)
    assert 'seg identical (2, 4, 8, 8)' in result.stdout
    assert 'vit identical (2, 5)' in result.stdout
    assert "vanilla test metrics ['aAcc', 'mAcc', 'mIoU']" in result.stdout, result.stdout[-3000:]
