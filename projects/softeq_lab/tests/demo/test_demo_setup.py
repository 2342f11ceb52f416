"""softeq_lab.demo.runs: config edits of the embedded demo (schedule, data root)."""
import pytest
from softeq_lab.demo.runs import rescale_schedule, schedule_length, set_data_root
from mmengine.config import Config


def _iter_cfg():
    return Config(dict(
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=600, val_interval=600),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=600)),
        param_scheduler=[
            dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=50),
            dict(type='CosineAnnealingLR', by_epoch=False, begin=50, end=600, T_max=550)],
        train_dataloader=dict(dataset=dict(data_root='data/demo_voc')),
        val_dataloader=dict(dataset=dict(data_root='data/demo_voc')),
        test_dataloader=dict(dataset=dict(data_root='data/demo_voc'))))


def test_rescale_schedule_keeps_the_shape_and_validates_at_the_end():
    cfg = _iter_cfg()
    rescale_schedule(cfg, 300)
    assert schedule_length(cfg) == 300 and cfg.train_cfg.val_interval == 300
    assert cfg.default_hooks.checkpoint.interval == 300
    warmup, cosine = cfg.param_scheduler
    assert (warmup.begin, warmup.end) == (0, 25)
    assert (cosine.begin, cosine.end, cosine.T_max) == (25, 300, 275)


@pytest.mark.parametrize('length', [1, 2, 4])
def test_rescale_schedule_to_a_few_iterations_keeps_valid_schedulers(length):
    cfg = _iter_cfg()
    rescale_schedule(cfg, length)
    for scheduler in cfg.param_scheduler:
        assert 0 <= scheduler.begin < scheduler.end <= length
    assert cfg.param_scheduler[1].T_max == cfg.param_scheduler[1].end - \
        cfg.param_scheduler[1].begin


def test_rescale_schedule_epochs_and_bad_lengths():
    cfg = Config(dict(train_cfg=dict(by_epoch=True, max_epochs=3, val_interval=3),
                      param_scheduler=[dict(type='LinearLR', by_epoch=True, begin=0, end=1),
                                       dict(type='CosineAnnealingLR', by_epoch=True, begin=1,
                                            end=3, T_max=2)]))
    rescale_schedule(cfg, 6)
    assert cfg.train_cfg.max_epochs == 6 and cfg.train_cfg.val_interval == 6
    assert [(s.begin, s.end) for s in cfg.param_scheduler] == [(0, 2), (2, 6)]
    assert cfg.param_scheduler[1].T_max == 4
    with pytest.raises(ValueError, match='>= 1'):
        rescale_schedule(cfg, 0)


def test_set_data_root_changes_every_dataset():
    cfg = _iter_cfg()
    assert set_data_root(cfg, '/tmp/x') == 3
    assert {cfg[key].dataset.data_root for key in
            ('train_dataloader', 'val_dataloader', 'test_dataloader')} == {'/tmp/x'}
    with pytest.raises(ValueError, match='no train/val/test dataset'):
        set_data_root(Config(dict(model=dict())), '/tmp/x')
