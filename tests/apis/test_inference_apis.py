"""The ecosystem's inference APIs on soft-equivariant checkpoints: projected or refused.

mmseg's ``init_model`` / ``MMSegInferencer`` and mmpretrain's ``get_model`` /
``ImageClassificationInferencer`` build ``cfg.model`` and load a checkpoint. With the wrapper
form they build the soft-equivariant model (the same outputs as the model that saved the
checkpoint); with the hook form they would build the plain model, and loading θ into it is
refused with the fix; an exported checkpoint loads into the plain model and reproduces the
outputs."""
import numpy as np
import pytest
import torch
from fixtures.tiny_models import resnet_classifier, tiny_segmentor

from mmsofteq.nn import export_model, inject_soft_equivariance

SOFTEQ = dict(group='C4', softness=0.0, min_kernel_size=2)
REFUSAL = r'holds θ of a soft-equivariant model.*export_checkpoint\.py'


def _config_text(scope, model, form, pipeline):
    head = f"default_scope = '{scope}'\ncustom_imports = dict(imports=['mmsofteq'])\n"
    if form == 'wrapper':
        model = dict(type='mmsofteq.SoftEqModel', model=model, softeq=SOFTEQ)
    text = head + f'model = {model!r}\ntest_pipeline = {pipeline!r}\n'
    text += ('test_dataloader = dict(dataset=dict(type=' +
             ("'BaseSegDataset'" if scope == 'mmseg' else "'CustomDataset'") +
             ', pipeline=test_pipeline))\n')
    text += 'visualizer = dict(type=' + (
        "'SegLocalVisualizer')\n" if scope == 'mmseg' else "'UniversalVisualizer')\n")
    if form == 'hook':
        text += f"default_hooks = dict(softeq=dict(type='mmsofteq.SoftEqHook', softeq={SOFTEQ!r}))\n"
    return text


@pytest.fixture(scope='module')
def saved(tmp_path_factory):
    """Per task: a trained-looking soft-equivariant model (random θ), its checkpoint, its
    export, and wrapper / hook configs."""
    from mmengine.registry import MODELS, init_default_scope
    tmp = tmp_path_factory.mktemp('inference')
    out = {}
    tasks = {
        'seg': ('mmseg', tiny_segmentor(),
                [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]),
        'cls': ('mmpretrain', dict(resnet_classifier(), data_preprocessor=dict(
            type='ClsDataPreprocessor', mean=[0., 0., 0.], std=[1., 1., 1.])),
                [dict(type='LoadImageFromFile'), dict(type='PackInputs')]),
    }
    for task, (scope, model_cfg, pipeline) in tasks.items():
        init_default_scope(scope)
        torch.manual_seed(0)
        model = MODELS.build(model_cfg)
        model.init_weights()
        inject_soft_equivariance(model, SOFTEQ, log=False)
        model.eval()
        checkpoint = tmp / f'{task}.pth'
        torch.save(dict(state_dict=model.state_dict(), meta={}), checkpoint)
        exported = tmp / f'{task}_exported.pth'
        plain = MODELS.build(model_cfg)
        plain.load_state_dict(model.state_dict())
        inject_soft_equivariance(plain, SOFTEQ, log=False)
        torch.save(dict(state_dict=export_model(plain).state_dict(), meta={}), exported)
        configs = {}
        for form in ('wrapper', 'hook'):
            path = tmp / f'{task}_{form}.py'
            path.write_text(_config_text(scope, model_cfg, form, pipeline))
            configs[form] = str(path)
        image = (np.random.default_rng(0).random((32, 32, 3)) * 255).astype(np.uint8)
        out[task] = dict(model=model, checkpoint=str(checkpoint), exported=str(exported),
                         configs=configs, image=image)
    return out


def _seg_logits(model, image):
    from mmengine.registry import init_default_scope
    from mmseg.apis import inference_model
    init_default_scope('mmseg')
    return inference_model(model, image).seg_logits.data


def test_mmseg_init_model_and_inferencer_build_the_projected_model_from_a_wrapper_config(saved):
    from mmengine.config import Config
    from mmseg.apis import MMSegInferencer, init_model
    case = saved['seg']
    reference = case['model']
    reference.cfg = Config.fromfile(case['configs']['wrapper'])
    expected = _seg_logits(reference, case['image'])
    model = init_model(case['configs']['wrapper'], case['checkpoint'], device='cpu')
    assert torch.allclose(_seg_logits(model, case['image']), expected, atol=1e-5)
    inferencer = MMSegInferencer(model=case['configs']['wrapper'], weights=case['checkpoint'],
                                 device='cpu')
    result = inferencer(case['image'], return_datasamples=True)
    assert torch.allclose(result.seg_logits.data, expected, atol=1e-5)


def test_mmseg_apis_refuse_a_hook_form_checkpoint_and_load_its_export(saved):
    from mmengine.config import Config
    from mmseg.apis import MMSegInferencer, init_model
    case = saved['seg']
    with pytest.raises(RuntimeError, match=REFUSAL):
        init_model(case['configs']['hook'], case['checkpoint'], device='cpu')
    with pytest.raises(RuntimeError, match=REFUSAL):
        MMSegInferencer(model=case['configs']['hook'], weights=case['checkpoint'], device='cpu')
    plain = init_model(case['configs']['hook'], case['exported'], device='cpu')
    reference = case['model']
    reference.cfg = Config.fromfile(case['configs']['wrapper'])
    assert torch.allclose(_seg_logits(plain, case['image']),
                          _seg_logits(reference, case['image']), atol=1e-5)


def test_mmpretrain_get_model_and_inferencer_project_or_refuse(saved, tmp_path):
    from mmengine.registry import init_default_scope
    from mmpretrain.apis import ImageClassificationInferencer, get_model
    init_default_scope('mmpretrain')
    case = saved['cls']
    image = torch.from_numpy(case['image']).permute(2, 0, 1)[None].float()
    with torch.no_grad():
        expected = case['model'](image, mode='tensor')
    model = get_model(case['configs']['wrapper'], pretrained=case['checkpoint'])
    model.eval()
    with torch.no_grad():
        assert torch.allclose(model(image, mode='tensor'), expected, atol=1e-5)
    inferencer = ImageClassificationInferencer(case['configs']['wrapper'],
                                               pretrained=case['checkpoint'])
    score = inferencer(case['image'])[0]['pred_scores']
    assert np.allclose(score, torch.softmax(expected, 1)[0].numpy(), atol=1e-5)
    with pytest.raises(RuntimeError, match=REFUSAL):
        get_model(case['configs']['hook'], pretrained=case['checkpoint'])
    with pytest.raises(RuntimeError, match=REFUSAL):
        ImageClassificationInferencer(case['configs']['hook'], pretrained=case['checkpoint'])
    plain = get_model(case['configs']['hook'], pretrained=case['exported'])
    plain.eval()
    with torch.no_grad():
        assert torch.allclose(plain(image, mode='tensor'), expected, atol=1e-5)
