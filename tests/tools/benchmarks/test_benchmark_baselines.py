"""tools/benchmarks/benchmark_baselines.py runs end to end with tiny settings (no numbers
are checked: timing is the machine's)."""
import re

import pytest
from fixtures.tools import load_tool


@pytest.mark.slow
def test_time_part_prints_every_variant_with_a_ratio_to_base(capsys):
    tool = load_tool('benchmarks/benchmark_baselines.py')
    tool.main(['--parts', 'time', '--repeats', '1', '--warmup', '0', '--seg-size', '64',
               '--cls-batch', '1', '--threads', '1'])
    out = capsys.readouterr().out
    for case in ('segformer-b0', 'resnet50'):
        assert f'### Inference: {case}' in out
    for variant in ('Base', 'OrbitAveraged C4', 'Canonicalized C4'):
        rows = re.findall(rf'^\| {variant} \| [\d.]+ \| ([\d.]+) \|', out, re.MULTILINE)
        assert len(rows) == 2, variant
    assert re.findall(r'^\| Base \| [\d.]+ \| ([\d.]+) \|', out, re.MULTILINE) == ['1.000'] * 2


def test_variants_wrap_the_case_model_with_the_config_recipes():
    tool = load_tool('benchmarks/benchmark_baselines.py')
    canon, orbit = tool.recipes()
    model = dict(type='ImageClassifier')
    assert tool.variant_config('Base', model) is model
    assert tool.variant_config('Canonicalized C4', model) == dict(
        type='mmsofteq.CanonicalizedModel', model=model, **canon)
    assert tool.variant_config('OrbitAveraged C4', model)['group'] == orbit['group'] == 'C4'
