"""The digits comparison of SoftEq and the baselines (softeq_lab.tunability.baselines_digits,
softeq_lab.tunability.baselines)."""
from importlib import import_module
import csv
import json
import os.path as osp

import pytest
import torch
from softeq_lab.tunability.baselines import (ComparisonConfig, PredictScores, build, method_label,
                                             model_config, parse_method, summarise)


@pytest.mark.parametrize('method, parsed', [('softeq:0.5', ('softeq', 0.5)),
                                            ('softeq:1', ('softeq', 1.0)),
                                            ('gcnn', ('gcnn', None)), ('canon', ('canon', None))])
def test_methods_parse(method, parsed):
    assert parse_method(method) == parsed


@pytest.mark.parametrize('method', ['softeq:1.5', 'orbit:C8', 'escnn', 'softeq'])
def test_bad_methods_are_errors(method):
    with pytest.raises(ValueError):
        parse_method(method)


def test_labels_name_base_and_strict_softeq():
    assert method_label('softeq:1') == 'Base (SoftEq s=1)'
    assert method_label('softeq:0') == 'strict SoftEq (s=0)'
    assert method_label('softeq:0.9') == 'SoftEq s=0.9'


def test_every_method_is_an_mmsofteq_model_and_scores_are_log_probabilities():
    config = ComparisonConfig(width=4, gcnn_channels=(4, 4, 4))
    images = torch.randn(3, config.canvas, config.canvas)
    for method, check in (('softeq:0', lambda m: 'softeq' in repr(m)),
                          ('gcnn', lambda m: type(m.backbone).__name__ == 'GCNN'),
                          ('canon', lambda m: hasattr(m, 'canonicalizer'))):
        model = build(model_config(method, config), seed=0)
        assert check(model), method
        with torch.no_grad():
            logits = PredictScores(model).eval()(images)
        assert logits.shape == (3, 10)
        assert torch.allclose(logits.exp().sum(1), torch.ones(3), atol=1e-5)
    with pytest.raises(ValueError, match='no config of its own'):
        model_config('orbit', config)


def test_summary_is_mean_and_sample_std_over_seeds():
    rows = [dict(method='gcnn', label='GCNN', seed=s, params=10,
                 **{k: v for k in ('acc', 'aacc', 'cacc', 'ierr', 'ierr_rot90', 'ierr_flip',
                                   'aacc_small', 'cacc_small', 'ierr_small')})
            for s, v in ((0, 1.0), (1, 3.0))]
    entry, = summarise(rows)
    assert entry['acc'] == 2.0 and entry['acc_std'] == pytest.approx(2 ** 0.5)
    assert entry['seeds'] == 2


@pytest.mark.slow
def test_one_epoch_comparison_writes_every_method(tmp_path):
    tool = import_module('softeq_lab.tunability.baselines_digits')
    methods = ['softeq:1', 'softeq:0', 'gcnn', 'orbit', 'canon']
    rows = tool.main(['--out-dir', str(tmp_path), '--epochs', '1', '--width', '4',
                      '--gcnn-channels', '4', '4', '4', '--methods', *methods])
    assert [row['method'] for row in rows] == methods
    by_method = {row['method']: row for row in rows}
    # C4 methods are exactly invariant to the quarter turn; Base is not
    for method in ('gcnn', 'orbit', 'canon'):
        assert by_method[method]['ierr_rot90'] < 1e-3, method
    assert by_method['softeq:1']['ierr_rot90'] > 1e-3
    # orbit averaging reuses the Base weights (one training)
    assert by_method['orbit']['train_seconds'] == by_method['softeq:1']['train_seconds']
    with open(osp.join(tmp_path, 'runs.csv')) as handle:
        assert len(list(csv.DictReader(handle))) == len(methods)
    summary = open(osp.join(tmp_path, 'summary.md')).read()
    assert 'strict SoftEq (s=0)' in summary and 'Canon. C4' in summary
    assert json.load(open(osp.join(tmp_path, 'config.json')))['epochs'] == 1
    assert osp.getsize(osp.join(tmp_path, 'baselines_digits.png')) > 0
