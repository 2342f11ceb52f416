"""The crash-safe run's record (``mmsofteq.apis.runs``): what it stores for the softness a run
varies, and which run dirs it refuses to reuse. Hand cases on records written to disk."""
import json
import math

import pytest
from mmengine.config import Config

from mmsofteq.apis import RunRecord, StaleRunError, check_run_dir
from mmsofteq.apis.runs import RECORD_FILE, config_fingerprint


@pytest.fixture
def cfg():
    return Config(dict(model=dict(type='Toy'), softeq=dict(softness=0.5)))


def _write(run_dir, cfg, **fields):
    record = RunRecord(fingerprint=config_fingerprint(cfg), mode='train', **fields)
    record.save(str(run_dir))
    return record


def test_a_seed_run_records_no_softness_and_is_reused_only_for_that_seed(tmp_path, cfg):
    _write(tmp_path, cfg, softness=None, seed=3)
    with open(tmp_path / RECORD_FILE) as handle:
        assert json.load(handle)['softness'] is None
    assert check_run_dir(cfg, str(tmp_path), None, 'train', seed=3).seed == 3
    with pytest.raises(StaleRunError, match='seed'):
        check_run_dir(cfg, str(tmp_path), None, 'train', seed=4)
    with pytest.raises(StaleRunError, match='softness'):
        check_run_dir(cfg, str(tmp_path), 0.5, 'train', seed=3)


def test_a_record_of_an_earlier_version_with_nan_softness_reads_as_none(tmp_path, cfg):
    record = _write(tmp_path, cfg, softness=None, seed=1)
    data = dict(vars(record), softness=math.nan)
    with open(tmp_path / RECORD_FILE, 'w') as handle:
        json.dump(data, handle)  # json writes NaN, as the earlier records have it
    assert RunRecord.load(str(tmp_path)).softness is None
    assert check_run_dir(cfg, str(tmp_path), math.nan, 'train', seed=1) is not None


def test_a_sweep_run_is_not_reused_for_another_softness_or_mode(tmp_path, cfg):
    _write(tmp_path, cfg, softness=0.5)
    assert check_run_dir(cfg, str(tmp_path), 0.5, 'train').softness == 0.5
    with pytest.raises(StaleRunError, match=r'softness \(0.5 there\)'):
        check_run_dir(cfg, str(tmp_path), 0.25, 'train')
    with pytest.raises(StaleRunError, match='mode'):
        check_run_dir(cfg, str(tmp_path), 0.5, 'test')
    other = Config(dict(model=dict(type='Toy'), softeq=dict(softness=0.25)))
    with pytest.raises(StaleRunError, match='config'):
        check_run_dir(other, str(tmp_path), 0.5, 'train')
